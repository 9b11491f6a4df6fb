from contracts import wire
from contracts.target import Stream, Target


async def test_join_and_audio(target: Target, stream: Stream) -> None:
    print("URL", stream.payload["server_urls"])
    joined = await target.joined(stream, {"audio": None})
    assert joined.answer["status_code"] == 0
    await target.pass_time(1.0, step=0.1)
    frames = await joined.media["audio"].collect(wire.MSG["MEDIA_DATA_AUDIO"], 10)
    assert len(frames) == 10

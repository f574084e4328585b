"""A button pressed late — one of another question's, or of a conversation already over — is said to
be so, and changes nothing: the current question is asked again, not answered with an error about
its format."""

from __future__ import annotations

from handlers.engine import Engine
from tests.conftest import Database
from tests.handlers.chat import Chat, Province, invite
from texts.catalog import t


async def test_a_button_of_another_question_is_named_as_such_and_the_question_asked_again(
        db: Database, province: Province, engine: Engine) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    for answer in ("/baucu", "15/12/2024", "Nguyễn Văn An", "250 240 200 180"):
        await chat.send(answer)
    await chat.send(choice="member")
    assert chat.choices == ["yes", "no"]  # is the winner the branch secretary?
    question = chat.replies[-1].text
    await chat.send(choice="send")  # the confirmation's button, pressed before its question came
    assert chat.text.startswith(t("common.stale_button"))
    assert question in chat.text and chat.choices == ["yes", "no"]
    assert t("common.bad_yes_no") not in chat.text
    await chat.send(choice="no")  # the conversation goes on where it was
    assert chat.choices == ["skip"]
    await chat.send("x")  # a typed wrong answer still gets the question's own hint
    assert not chat.text.startswith(t("common.stale_button"))


async def test_a_button_of_a_conversation_that_is_over_changes_nothing(
        db: Database, province: Province, engine: Engine) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await chat.send("/baucu")
    await chat.send("/huy")
    await chat.send(choice="send")
    assert chat.text == t("common.stale_button_done")
    await chat.send("/trangthai")
    assert "Chưa báo cáo kết quả bầu trưởng thôn" in chat.text

"""The chat page: a conversation with the shop's data. Ask in plain language; follow up ("and only for
Jeans?") and the question is read against the answers before it, with what it was understood as shown.
Each answer comes in words (one or two sentences whose numbers are the result's), as a table and a chart
that fits, with two or three next questions to click and every detail of how it was found; thumbs up or
down teaches the app (see app/feedback.py).

While the engine works, a status box lists its stages as they happen, with the time each took. Its cancel
button works the Streamlit way: a click reruns the page, and a rerun stops the running script at its next
st call, which the progress callback makes at every stage; the question is kept, marked stopped, with a
button to ask it again (app/history.py).
"""

from __future__ import annotations

import streamlit as st

from thelook_ecommerce_analysis.app.answers import csv_bytes, friendly_failure
from thelook_ecommerce_analysis.app.charts import ChartKind, build_chart, chart_options, metric_cards
from thelook_ecommerce_analysis.app.dashboard_data import markdown_text
from thelook_ecommerce_analysis.app.feedback import Verdict
from thelook_ecommerce_analysis.app.history import Asked, ChatTurn, conversation_for
from thelook_ecommerce_analysis.app.progress import StageLog, finished_headline, steps_markdown
from thelook_ecommerce_analysis.app.resources import (
    engine_warmup,
    feedback_store,
    llm_settings,
    question_engine,
    reader_url,
)
from thelook_ecommerce_analysis.app.samples import SAMPLE_QUESTIONS
from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.conversation import Turn, leans_on_conversation
from thelook_ecommerce_analysis.rag.engine import Answer, QuestionEngine

# (Comments, not docstrings, here: Streamlit's magic would write a bare string on the page.)
HIDE_CHART = "hide chart"
# A question clicked (a sample, a suggestion, "Ask again"), asked on the rerun the click makes.
PENDING = "pending_question"
# The question being answered; still set when a page run starts, it means the last run was stopped.
IN_FLIGHT = "question_in_flight"
SENTENCE_SOURCES = {
    "llm": "written by the model; every number in it was checked against the result table",
    "template": "built from the result table without the model",
}


def history() -> list[ChatTurn]:
    return st.session_state.setdefault("turns", [])


def ask_later(asked: Asked) -> None:
    st.session_state[PENDING] = asked


def record_feedback(turn: ChatTurn) -> None:
    """on_change of the thumbs: 1 is up, 0 is down (None when cleared, which records nothing)."""
    choice = st.session_state.get(f"thumbs-{turn.id}")
    if choice is None:
        return
    verdict = Verdict.UP if choice == 1 else Verdict.DOWN
    answer = turn.answer
    assert answer is not None
    # A follow-up is stored as the standalone question it was read as: "and only for Jeans?" alone would
    # make a meaningless example.
    question = answer.understood_as or answer.question
    try:
        stored = feedback_store(database_url("owner")).record(
            question, answer.sql, verdict, error=answer.error, provider=answer.provider
        )
    except ThelookError as error:
        turn.feedback_note = f"Feedback not saved: {error}"
        return
    turn.feedback_note = stored.note


def render_result(turn: ChatTurn) -> None:
    answer = turn.answer
    assert answer is not None and answer.table is not None and answer.shape is not None
    if answer.sentence:
        st.markdown(markdown_text(answer.sentence))
    if answer.notice:
        st.info(answer.notice)
    if answer.changes:
        st.caption("Changed before it ran: " + "; ".join(answer.changes))
    st.dataframe(answer.table, hide_index=True)
    st.download_button(
        "Download CSV", csv_bytes(answer.table), file_name="answer.csv", mime="text/csv", key=f"csv-{turn.id}"
    )
    options = chart_options(answer.shape.schema, answer.row_count)
    if not options:
        return
    labels = [option.label for option in options]
    chosen = st.selectbox("Chart", [*labels, HIDE_CHART], key=f"chart-{turn.id}")
    if chosen == HIDE_CHART:
        return
    spec = options[labels.index(chosen)]
    if spec.kind is ChartKind.METRIC:
        for column, (label, value) in zip(
            st.columns(len(spec.measures)), metric_cards(spec, answer.table), strict=True
        ):
            column.metric(label, value)
    else:
        st.altair_chart(build_chart(spec, answer.table, answer.shape.schema), width="stretch")


def render_details(answer: Answer) -> None:
    """Folded away: the SQL, every attempt with its error, the reasoning, the documents, the timings."""
    with st.expander("How this answer was found"):
        if answer.sql:
            st.markdown("**SQL**")
            st.code(answer.sql, language="sql")
        st.markdown(f"**Attempts** ({len(answer.attempts)})")
        for attempt in answer.attempts:
            outcome = "ok" if attempt.ok else f"{attempt.stage}: {attempt.error}"
            note = f" ({attempt.note})" if attempt.note else ""
            st.markdown(f"{attempt.number}. `{attempt.source}`{note} → {outcome}")
            if attempt.sql and not attempt.ok:
                st.code(attempt.sql, language="sql")
        if answer.reasoning:
            st.markdown("**Model reasoning**")
            st.text(answer.reasoning)
        if answer.documents:
            st.markdown("**Retrieved documents**")
            st.dataframe(
                [
                    {"kind": d["kind"], "title": d["title"], "score": round(d["score"], 3)}
                    for d in answer.documents
                ],
                hide_index=True,
            )
        if answer.sentence_source in SENTENCE_SOURCES:
            st.caption(f"The answer in words was {SENTENCE_SOURCES[answer.sentence_source]}.")
        timings = " · ".join(f"{stage} {ms:,.0f} ms" for stage, ms in answer.timings_ms.items())
        st.caption(f"Timings: {timings}. LLM: {answer.provider}")


def render_suggestions(turn: ChatTurn) -> None:
    """The next questions, as buttons: a click asks one as a follow-up of this answer."""
    answer = turn.answer
    assert answer is not None
    if not answer.suggestions:
        return
    with st.container(horizontal=True, key=f"next-{turn.id}"):
        for position, suggestion in enumerate(answer.suggestions):
            st.button(
                suggestion,
                key=f"suggest-{turn.id}-{position}",
                icon=":material/subdirectory_arrow_right:",
                on_click=ask_later,
                args=(Asked(suggestion, follow_up_of=turn.id),),
            )


def render_answer(turn: ChatTurn) -> None:
    """Inside the assistant's message: what the question was understood as, the answer or its failure,
    the next questions, the details and the thumbs."""
    answer = turn.answer
    assert answer is not None
    if answer.understood_as:
        st.caption(f"Understood as: {markdown_text(answer.understood_as)}")
    if answer.ok:
        render_result(turn)
        render_suggestions(turn)
    else:
        failure = friendly_failure(answer)
        box = st.warning if failure.kind == "unanswerable" else st.error
        box(f"**{failure.headline}** {failure.advice}")
        st.caption(failure.detail)
    render_details(answer)
    st.feedback("thumbs", key=f"thumbs-{turn.id}", on_change=record_feedback, args=(turn,))
    if turn.feedback_note:
        st.caption(turn.feedback_note)


def render_turn(turn: ChatTurn) -> None:
    with st.chat_message("user"):
        st.markdown(markdown_text(turn.asked.text))
    with st.chat_message("assistant"):
        if turn.stopped:
            st.info("Stopped before the answer.")
            st.button(
                "Ask again", key=f"again-{turn.id}", icon=":material/replay:", on_click=ask_later,
                args=(turn.asked,),
            )  # fmt: skip
            return
        assert turn.answer is not None
        with st.status(
            finished_headline(turn.answer.timings_ms.get("total", 0.0), turn.answer.ok),
            state="complete" if turn.answer.ok else "error",
        ):
            st.markdown(steps_markdown(turn.steps))
        render_answer(turn)


def answer_live(engine: QuestionEngine, asked: Asked, conversation: list[Turn]) -> ChatTurn:
    """Ask the engine, showing each stage as it happens. The callback writes to the page at every stage,
    and so gives a cancel click (a rerun) the chance to stop this run there."""
    log = StageLog(follow_up=leans_on_conversation(asked.text, conversation))
    st.session_state[IN_FLIGHT] = asked
    # The button stays outside the box: a box folded by hand, or redrawn with a new label, keeps it.
    cancel = st.empty()
    cancel.button(
        "Cancel",
        key="cancel",
        icon=":material/stop_circle:",
        help="Stops at the end of the current step; the question stays in the history.",
    )
    with st.status("Working on it...", expanded=True) as box:
        shown = st.empty()
        headline = ""

        def show(stage: str, ms: float | None) -> None:
            nonlocal headline
            log.record(stage, ms)
            shown.markdown(log.markdown())
            if log.headline() != headline:
                headline = log.headline()
                box.update(label=headline, expanded=True)

        answer = engine.ask(asked.text, conversation=conversation, progress=show)
        cancel.empty()
        box.update(
            label=finished_headline(answer.timings_ms.get("total", 0.0), answer.ok),
            state="complete" if answer.ok else "error",
            expanded=False,
        )
    del st.session_state[IN_FLIGHT]
    return ChatTurn(asked, answer, log.steps)


st.title("Ask the shop")
# The engine builds in the background from the app's first page (main.py); the page does not wait for it.
if failed := engine_warmup(reader_url(), llm_settings()).state().error:
    st.error(f"The question engine could not start: {failed}")
    st.stop()

if (stopped := st.session_state.pop(IN_FLIGHT, None)) is not None:
    history().append(ChatTurn(stopped))  # its run was stopped (cancel, or another question asked meanwhile)

typed = st.chat_input("Ask about sales, customers, products, shipping or the website...")
asked: Asked | None = Asked(typed) if typed else st.session_state.pop(PENDING, None)

if not history() and asked is None:
    st.markdown(
        'Ask in plain language, and follow up on an answer ("and only for Jeans?"); each answer comes '
        "in words, as a table and as a chart. Try one of these:"
    )
    for position, sample in enumerate(SAMPLE_QUESTIONS):
        st.button(sample, key=f"sample-{position}", on_click=ask_later, args=(Asked(sample),))

for turn in history():
    render_turn(turn)

if asked is not None:
    with st.chat_message("user"):
        st.markdown(markdown_text(asked.text))
    with st.chat_message("assistant"):
        try:
            with st.spinner("Starting the question engine (schema catalog, embedding model, LLM)..."):
                engine = question_engine(reader_url(), llm_settings())
        except ThelookError as error:
            st.error(f"The question engine could not start: {error}")
            st.stop()
        turn = answer_live(engine, asked, conversation_for(history(), asked))
        history().append(turn)
        render_answer(turn)

"""The chat page: ask in plain language, get a table, a chart that fits the result, and every detail of
how the answer was found; thumbs up or down teaches the app (see app/feedback.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import streamlit as st

from thelook_ecommerce_analysis.app.answers import csv_bytes, friendly_failure
from thelook_ecommerce_analysis.app.charts import ChartKind, build_chart, chart_options, metric_cards
from thelook_ecommerce_analysis.app.feedback import Verdict
from thelook_ecommerce_analysis.app.resources import feedback_store, llm_settings, question_engine, reader_url
from thelook_ecommerce_analysis.app.samples import SAMPLE_QUESTIONS
from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.engine import Answer

HIDE_CHART = "hide chart"


@dataclass
class Turn:
    """One question and its answer in the history, with the feedback given to it."""

    answer: Answer
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    feedback_note: str | None = None


def history() -> list[Turn]:
    return st.session_state.setdefault("turns", [])


def ask_sample(question: str) -> None:
    st.session_state["pending_question"] = question


def record_feedback(turn: Turn) -> None:
    """on_change of the thumbs: 1 is up, 0 is down (None when cleared, which records nothing)."""
    choice = st.session_state.get(f"thumbs-{turn.id}")
    if choice is None:
        return
    verdict = Verdict.UP if choice == 1 else Verdict.DOWN
    answer = turn.answer
    try:
        stored = feedback_store(database_url("owner")).record(
            answer.question, answer.sql, verdict, error=answer.error, provider=answer.provider
        )
    except ThelookError as error:
        turn.feedback_note = f"Feedback not saved: {error}"
        return
    turn.feedback_note = stored.note


def render_result(turn: Turn) -> None:
    answer = turn.answer
    assert answer.table is not None and answer.shape is not None
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
        timings = " · ".join(f"{stage} {ms:,.0f} ms" for stage, ms in answer.timings_ms.items())
        st.caption(f"Timings: {timings}. LLM: {answer.provider}")


def render_turn(turn: Turn) -> None:
    answer = turn.answer
    with st.chat_message("user"):
        st.markdown(answer.question)
    with st.chat_message("assistant"):
        if answer.ok:
            render_result(turn)
        else:
            failure = friendly_failure(answer)
            box = st.warning if failure.kind == "unanswerable" else st.error
            box(f"**{failure.headline}** {failure.advice}")
            st.caption(failure.detail)
        render_details(answer)
        st.feedback("thumbs", key=f"thumbs-{turn.id}", on_change=record_feedback, args=(turn,))
        if turn.feedback_note:
            st.caption(turn.feedback_note)


st.title("Ask the shop")
try:
    engine = question_engine(reader_url(), llm_settings())
except ThelookError as error:
    st.error(f"The question engine could not start: {error}")
    st.stop()

typed = st.chat_input("Ask about sales, customers, products, shipping or the website...")
question = typed or st.session_state.pop("pending_question", None)
if question:
    with st.spinner("Writing and checking the SQL..."):
        history().append(Turn(engine.ask(question)))

if not history():
    st.markdown("Ask in plain language; the answer comes as a table and a chart. Try one of these:")
    for position, sample in enumerate(SAMPLE_QUESTIONS):
        st.button(sample, key=f"sample-{position}", on_click=ask_sample, args=(sample,))

for turn in history():
    render_turn(turn)

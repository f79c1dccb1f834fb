"""Plain-text views of an answer and of an evaluation report, for the terminal."""

from __future__ import annotations

from thelook_ecommerce_analysis.rag.engine import Answer
from thelook_ecommerce_analysis.rag.evaluate import EvalReport

ROWS_SHOWN = 20


def _table_text(answer: Answer) -> str:
    columns = answer.columns
    rows = [["" if value is None else str(value) for value in row] for row in answer.rows()[:ROWS_SHOWN]]
    widths = [max([len(name)] + [len(row[index]) for row in rows]) for index, name in enumerate(columns)]
    lines = [" | ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True))]
    lines.append("-+-".join("-" * width for width in widths))
    lines += [
        " | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in rows
    ]
    if answer.row_count > ROWS_SHOWN:
        lines.append(f"... {answer.row_count - ROWS_SHOWN} more rows")
    return "\n".join(lines)


def render_answer(answer: Answer) -> str:
    """Rows, final SQL, every attempt with its error, the retrieved documents, timings per stage."""
    parts = [f"question: {answer.question}"]
    if answer.understood_as:
        parts.append(f"understood as: {answer.understood_as}")
    if answer.ok:
        if answer.sentence:
            parts.append(f"\n{answer.sentence}")
        parts.append(f"\n{_table_text(answer)}\n({answer.row_count} rows)")
        if answer.notice:
            parts.append(answer.notice)
        parts += [f"changed before it ran: {change}" for change in answer.changes]
        if answer.vote:
            parts.append(f"vote: {answer.vote}")
        parts.append(f"\nSQL:\n{answer.sql}")
        if answer.suggestions:
            parts.append("next: " + " | ".join(answer.suggestions))
    else:
        parts.append(f"\n{answer.error}")
    parts.append("\nattempts:")
    for attempt in answer.attempts:
        outcome = "ok" if attempt.ok else f"{attempt.stage}: {attempt.error}"
        note = f" [{attempt.note}]" if attempt.note else ""
        candidate = f" #{attempt.candidate}" if attempt.candidate else ""
        parts.append(f"  {attempt.number}. {attempt.source}{candidate}{note} -> {outcome}")
        if attempt.sql and not attempt.ok:
            parts.append("     " + " ".join(attempt.sql.split()))
    if answer.reasoning:
        parts.append(f"\nmodel reasoning:\n{answer.reasoning.strip()}")
    if answer.documents:
        parts.append("\nretrieved:")
        parts += [f"  {d['kind']:<8} {d['score']:.3f}  {d['title']}" for d in answer.documents[:10]]
    timings = ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in answer.timings_ms.items())
    parts.append(f"\ntimings: {timings}\nLLM: {answer.provider}")
    return "\n".join(parts)


def render_report(report: EvalReport) -> str:
    """The summary numbers, then every miss with both queries."""
    summary = report.summary()
    lines = [
        f"questions:               {summary['questions']}",
        f"execution accuracy:      {summary['execution_accuracy']:.1%}",
        f"  holding gold columns:  {summary['holds_gold_columns_accuracy']:.1%} (Spider 2.0's laxer score)",
        f"first-attempt accuracy:  {summary['first_attempt_accuracy']:.1%}",
        f"rescued first misses:    {summary['rescued'] or 'none'} "
        f"(of {summary['first_attempt_misses']} first-attempt misses)",
        f"mean LLM calls:          {summary['mean_llm_calls']}",
        f"latency p50 / p95:       {summary['latency_ms_p50'] / 1000:.1f} s / "
        f"{summary['latency_ms_p95'] / 1000:.1f} s",
        f"non-LLM p50 / p95:       {summary['non_llm_ms_p50']:.0f} ms / {summary['non_llm_ms_p95']:.0f} ms",
        "  by stage (p50 / p95):  "
        + ", ".join(
            f"{stage} {p50:.0f}/{p95:.0f} ms" for stage, (p50, p95) in summary["stage_ms_p50_p95"].items()
        ),
    ]
    misses = [outcome for outcome in report.outcomes if not outcome.matched]
    if misses:
        lines.append("\nmisses:")
    for outcome in misses:
        lines.append(f"- {outcome.question.id}: {outcome.question.question}")
        lines.append(f"    gold:   {' '.join(outcome.question.sql.split())}")
        lines.append(f"    answer: {' '.join((outcome.answer.sql or outcome.answer.error or '').split())}")
    return "\n".join(lines)

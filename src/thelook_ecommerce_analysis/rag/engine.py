"""The text-to-SQL loop for one question: retrieve, prompt, generate, then guard, validate, execute, and
when something fails, repair deterministically or retry with a prompt that changes something.

Two walls stand between a model and the data: the guard (a pure check of the SQL text) and the
read-only role, reached in a fresh session per question through the extended protocol (one statement
only). Every attempt is recorded with its error, so the CLI and the app can show what happened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pyarrow as pa

from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import LLMProvider, LLMUnavailable
from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey, load_catalog
from thelook_ecommerce_analysis.rag.execute import ResultTooLargeError, fetch_bounded
from thelook_ecommerce_analysis.rag.extract import extract_sql
from thelook_ecommerce_analysis.rag.fit import Intent, Misfit, check_fit, read_intent
from thelook_ecommerce_analysis.rag.guard import guard_sql
from thelook_ecommerce_analysis.rag.knowledge import Knowledge, load_knowledge
from thelook_ecommerce_analysis.rag.prompt import Example, Failure, PromptContext, build_messages
from thelook_ecommerce_analysis.rag.question import printable, read_question
from thelook_ecommerce_analysis.rag.repair import Repair, repair_literals, repair_sql
from thelook_ecommerce_analysis.rag.validate import ResultShape, describe_query

logger = logging.getLogger(__name__)

KNOWLEDGE_KINDS = ["table", "column", "metric"]
CANNOT_ANSWER = "CANNOT ANSWER"
LLM_DOWN_PREFIX = "could not reach the language model"
"""How an answer's error begins when the LLM is down (app/answers.py tells the person so)."""
TIMEOUT_ERROR = "the query took too long and was stopped"
"""An attempt's error when statement_timeout cancelled its query (app/answers.py tells the person so)."""


@dataclass(frozen=True)
class EngineSettings:
    """Knobs of the loop (`thelook ask` flags and the app expose them)."""

    max_attempts: int = 3
    max_rows: int = 1000
    max_result_bytes: int = 16 << 20
    statement_timeout_ms: int = 15_000
    examples: int = 3
    tables: int = 4
    metric_notes: int = 3
    retrieve_k: int = 16
    retry_temperature: float = 0.4
    repairs: bool = True
    fit_checks: bool = True
    use_examples: bool = True


@dataclass
class Attempt:
    """One try at a query: who wrote it (the model or a repair), what it was, and how it ended."""

    number: int
    source: str
    sql: str | None
    stage: str
    error: str | None = None
    note: str | None = None
    reasoning: str | None = None
    temperature: float | None = None
    misfit: str | None = None

    @property
    def ok(self) -> bool:
        return self.stage == "done"


@dataclass
class Answer:
    """The outcome for one question, with everything needed to show and to judge it."""

    question: str
    ok: bool = False
    sql: str | None = None
    table: pa.Table | None = None
    shape: ResultShape | None = None
    attempts: list[Attempt] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    notice: str | None = None
    provider: str = ""

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names) if self.table is not None else []

    @property
    def row_count(self) -> int:
        return self.table.num_rows if self.table is not None else 0

    @property
    def reasoning(self) -> str | None:
        return next((attempt.reasoning for attempt in reversed(self.attempts) if attempt.reasoning), None)

    def rows(self) -> list[list[Any]]:
        if self.table is None:
            return []
        return [list(row.values()) for row in self.table.to_pylist()]

    def to_json(self) -> dict[str, Any]:
        """The fields of `thelook ask --json`."""
        return {
            "question": self.question,
            "ok": self.ok,
            "sql": self.sql,
            "error": self.error,
            "notice": self.notice,
            "columns": self.columns,
            "rows": [[_jsonable(value) for value in row] for row in self.rows()],
            "row_count": self.row_count,
            "attempts": [attempt.__dict__ | {"ok": attempt.ok} for attempt in self.attempts],
            "documents": self.documents,
            "timings_ms": {stage: round(ms, 1) for stage, ms in self.timings_ms.items()},
            "provider": self.provider,
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class _Clock:
    """Adds up milliseconds per stage across attempts."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self._timings[name] = self._timings.get(name, 0.0) + elapsed


class QuestionEngine:
    """Answers questions against one database with one LLM. Built once per process: the catalog, the
    categorical values and the embedding model are loaded at start, not per question."""

    def __init__(
        self,
        reader_url: str,
        provider: LLMProvider,
        settings: EngineSettings | None = None,
        embed: Callable[[str], Any] | None = None,
    ) -> None:
        from thelook_ecommerce_analysis.embed.model import embed_query

        self.reader_url = reader_url
        self.provider = provider
        self.settings = settings or EngineSettings()
        self._embed = embed or embed_query
        with connect(reader_url) as connection:
            self.catalog: Catalog = load_catalog(connection)
            self.knowledge: Knowledge = load_knowledge(connection, self.catalog)

    # -- retrieval ----------------------------------------------------------------------------------

    def _retrieve(self, question: str, answer: Answer, clock: _Clock, connection: psycopg.Connection) -> list:
        from thelook_ecommerce_analysis.rag.retrieve import retrieve

        with clock.stage("embed"):
            vector = self._embed(question)
        with clock.stage("retrieve"):
            # Two searches, so that similar solved examples are never crowded out by schema documents.
            documents = retrieve(
                connection, vector, question, kinds=KNOWLEDGE_KINDS, k=self.settings.retrieve_k
            )
            documents += retrieve(
                connection, vector, question, kinds=["example"], k=2 * self.settings.examples
            )
        answer.documents = [
            {"id": document.id, "kind": str(document.kind), "title": document.title, "score": document.score}
            for document in documents
        ]
        return documents

    def _context(
        self, documents: list, skip_examples: int = 0, extra_tables: tuple[TableKey, ...] = ()
    ) -> PromptContext:
        """Tables in order of first mention by the retrieved documents, metric notes, examples; a retry
        may add `extra_tables`, ones a misfit showed the answer needs (where a named value lives)."""
        tables: list[TableKey] = []
        notes: list[str] = []
        examples: list[Example] = []
        for document in documents:
            metadata = document.metadata or {}
            mentioned = [tuple(name.split(".", 1)) for name in metadata.get("tables", [])]
            if "schema" in metadata and "table" in metadata:
                mentioned.insert(0, (metadata["schema"], metadata["table"]))
            for table in mentioned:
                if table in self.catalog.tables and table not in tables and not table[1].startswith("etl_"):
                    tables.append(table)
            if str(document.kind) == "metric" and len(notes) < self.settings.metric_notes:
                notes.append(f"{document.title} = {metadata.get('formula', document.text)}")
            if str(document.kind) == "example" and "sql" in metadata:
                examples.append(Example(metadata["question"], metadata["sql"]))
        # A retry sees the next examples (wrapping around): never the same prompt twice.
        offset = skip_examples % len(examples) if examples else 0
        chosen_examples = (examples[offset:] + examples[:offset])[: self.settings.examples]
        if not self.settings.use_examples:
            chosen_examples = []
        chosen_tables = tables[: self.settings.tables]
        chosen_tables += [table for table in extra_tables if table not in chosen_tables]
        return PromptContext(tuple(chosen_tables), tuple(notes), tuple(chosen_examples))

    # -- checking and running -----------------------------------------------------------------------

    def _check(self, sql: str, attempt: Attempt, clock: _Clock, connection: psycopg.Connection):
        """Guard, then validate (result shape without running): the checked SQL and its shape, or None
        with the attempt's stage and error set."""
        with clock.stage("guard"):
            verdict = guard_sql(sql, self.catalog, max_rows=self.settings.max_rows)
        if not verdict.ok:
            attempt.stage, attempt.error = "guard", "; ".join([verdict.reason, *verdict.hints])
            return None
        with clock.stage("validate"):
            try:
                shape = describe_query(connection, verdict.sql)
            except psycopg.Error as error:
                attempt.stage, attempt.error = "validate", _first_line(error)
                return None
        return verdict.sql, shape

    def _execute(
        self, sql: str, shape: ResultShape, connection: psycopg.Connection, clock: _Clock
    ) -> pa.Table:
        with clock.stage("execute"):
            rows = fetch_bounded(connection, sql, self.settings.max_result_bytes)
        names = list(shape.names)
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        return pa.Table.from_arrays([pa.array(list(values)) for values in columns], names=names)

    # -- the loop -----------------------------------------------------------------------------------

    def ask(self, question: str | bytes) -> Answer:
        """Answer one question; never raises for bad input, a dead LLM or a failing query: the Answer
        carries the error in one readable line."""
        started = time.perf_counter()
        answer = Answer(question=printable(question), provider=self.provider.describe())
        clock = _Clock(answer.timings_ms)
        try:
            self._answer(read_question(question), answer, clock)
        except LLMUnavailable as error:
            answer.error = f"{LLM_DOWN_PREFIX}: {error}"
        except ThelookError as error:
            answer.error = str(error)
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    def _answer(self, question: str, answer: Answer, clock: _Clock) -> None:
        # One fresh read-only session per question, for retrieval and every attempt: nothing a previous
        # question did can leak into it, and it costs one connection, not one per attempt.
        options = f"-c statement_timeout={self.settings.statement_timeout_ms}"
        with connect(self.reader_url, options=options, autocommit=True) as connection:
            self._attempts(question, answer, clock, connection)

    def _attempts(self, question: str, answer: Answer, clock: _Clock, connection: psycopg.Connection) -> None:
        """Generate, check, run and judge until an answer fits the question or the attempts run out.

        An answer that runs but does not fit (see rag/fit.py) is fixed deterministically where it can
        be, else retried with the reason; if no retry fits better, the first answer that ran is kept,
        with the reason as a notice, rather than thrown away."""
        documents = self._retrieve(question, answer, clock, connection)
        context = self._context(documents)
        failure: Failure | None = None
        kept: _Kept | None = None
        retried: set[str] = set()
        intent = read_intent(question, self.knowledge.values)
        extra_tables: tuple[TableKey, ...] = ()
        for number in range(1, self.settings.max_attempts + 1):
            retry = failure is not None
            if retry:
                skipped = self.settings.examples * (number - 1)
                context = self._context(documents, skip_examples=skipped, extra_tables=extra_tables)
            temperature = self.settings.retry_temperature if retry else 0.0
            attempt = Attempt(number, "llm-retry" if retry else "llm", None, "llm", temperature=temperature)
            answer.attempts.append(attempt)
            messages = build_messages(
                question,
                context,
                self.catalog,
                values=self.knowledge.values,
                comments=self.knowledge.comments,
                failure=failure,
            )
            with clock.stage("llm"):
                reply = self.provider.complete(messages, temperature=temperature, seed=number)
            attempt.reasoning = reply.reasoning
            sql = extract_sql(reply.text)
            if sql is None:
                if CANNOT_ANSWER in reply.text.upper():
                    attempt.stage, attempt.error = "unanswerable", reply.text.strip()[:300]
                    answer.error = f"could not answer from this data: {_reason_after(reply.text)}"
                    return
                attempt.stage, attempt.error = "extract", "the model answered without SQL"
                failure = Failure("SELECT ...", "no SQL query in the answer; answer with one ```sql block")
                continue
            attempt.sql = sql
            if self._settle(sql, attempt, answer, clock, connection) == "done":
                misfit = self._fit(intent, answer, clock, connection) if self.settings.fit_checks else None
                if misfit is None:
                    answer.ok = True
                    return
                kept = kept if kept is not None and kept.misfit.kind != "empty" else _Kept.of(answer, misfit)
                judged = answer.attempts[-1]
                judged.stage, judged.error, judged.misfit = "misfit", misfit.reason, misfit.kind
                if misfit.kind in retried:
                    break  # the model was told this once already: another try would cost, not help
                retried.add(misfit.kind)
                failure = Failure(answer.sql or sql, misfit.reason, ran=True)
                extra_tables = misfit.tables
                continue
            last = answer.attempts[-1]
            failure = Failure(last.sql or sql, last.error or "failed", self._hints_for(last.sql or sql))
        if kept is not None:
            kept.restore(answer)
            return
        answer.error = f"could not answer after {self.settings.max_attempts} attempts: {failure.error}"

    def _fit(self, intent: Intent, answer: Answer, clock: _Clock, connection) -> Misfit | None:
        """Judge the answer that just ran against the question, applying each deterministic fix (one
        recorded attempt each) until it fits or only the model can fix what is left."""
        applied: set[str] = set()
        while True:
            with clock.stage("fit"):
                misfit = check_fit(intent, answer.sql or "", answer.table, self.catalog)
            if misfit is None or misfit.sql is None or misfit.kind in applied:
                return misfit
            applied.add(misfit.kind)
            previous = answer.attempts[-1]
            previous.stage, previous.error, previous.misfit = "misfit", misfit.reason, misfit.kind
            fixed = Attempt(previous.number, f"fit:{misfit.kind}", misfit.sql, "repair", note=misfit.reason)
            answer.attempts.append(fixed)
            if self._settle(misfit.sql, fixed, answer, clock, connection) != "done":
                previous.stage, previous.error, previous.misfit = "done", None, None  # the fix broke it
                return None

    def _settle(self, sql: str, attempt: Attempt, answer: Answer, clock, connection) -> str:
        """Check and run `sql`; on failure try the deterministic repairs, each a recorded attempt."""
        if self.settings.repairs and (literal := repair_literals(sql, self.catalog, self.knowledge)):
            attempt.stage, attempt.error = "literal", f"values that exist in no row: {literal.note}"
            attempt = Attempt(attempt.number, "repair:literal", literal.sql, "repair", note=literal.note)
            answer.attempts.append(attempt)
            sql = literal.sql
        checked = self._check(sql, attempt, clock, connection)
        if checked is None and self.settings.repairs:
            checked = self._repair(sql, attempt, answer, clock, connection)
        if checked is None:
            return "failed"
        final_sql, shape = checked
        current = answer.attempts[-1]
        try:
            table = self._execute(final_sql, shape, connection, clock)
        except psycopg.errors.QueryCanceled:
            current.stage, current.error = "execute", TIMEOUT_ERROR
            return "failed"
        except ResultTooLargeError as error:
            current.stage, current.error = "execute", str(error)
            return "failed"
        except psycopg.Error as error:
            current.stage, current.error = "execute", _first_line(error)
            return "failed"
        current.stage = "done"
        answer.sql, answer.table, answer.shape = final_sql, table, shape
        return "done"

    def _repair(self, sql: str, attempt: Attempt, answer: Answer, clock, connection):
        with clock.stage("repair"):
            repairs: list[Repair] = repair_sql(sql, self.catalog, self.knowledge)
        for repair in repairs:
            repaired = Attempt(
                attempt.number, f"repair:{repair.kind}", repair.sql, "repair", note=repair.note
            )
            answer.attempts.append(repaired)
            checked = self._check(repair.sql, repaired, clock, connection)
            if checked is not None:
                return checked
        return None

    def _hints_for(self, sql: str) -> tuple[str, ...]:
        """The real columns of the tables a failed query used, for the retry prompt."""
        import sqlglot
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(sql, read="postgres")
        except sqlglot.errors.SqlglotError:
            return ()
        hints = []
        for table in tree.find_all(exp.Table):
            key = self.catalog.resolve_table(table.name, table.db or None)
            if key is not None:
                hints.append(f"{key[0]}.{key[1]} has columns: {', '.join(self.catalog.column_names(key))}")
        return tuple(dict.fromkeys(hints))


@dataclass(frozen=True)
class _Kept:
    """An answer that ran but did not fit, held while a retry tries to do better."""

    misfit: Misfit
    attempt: Attempt
    sql: str | None
    table: pa.Table | None
    shape: ResultShape | None

    @classmethod
    def of(cls, answer: Answer, misfit: Misfit) -> _Kept:
        return cls(misfit, answer.attempts[-1], answer.sql, answer.table, answer.shape)

    def restore(self, answer: Answer) -> None:
        """Make this the answer again, saying why it may not be the one the question wanted."""
        self.attempt.stage, self.attempt.error, self.attempt.misfit = "done", None, None
        answer.ok, answer.error = True, None
        answer.sql, answer.table, answer.shape = self.sql, self.table, self.shape
        if self.misfit.kind == "empty":
            answer.notice = f"The query ran but {self.misfit.reason.split(';')[0].removeprefix('it ')}."
        else:
            answer.notice = f"This answer may not be what you asked: {self.misfit.reason}."


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _reason_after(text: str) -> str:
    upper = text.upper()
    reason = text[upper.index(CANNOT_ANSWER) + len(CANNOT_ANSWER) :].strip(" :.-\n")
    return reason[:300] or "the question is not about the data this shop records"

"""The text-to-SQL loop for one question: retrieve, prompt, generate, then guard, validate, execute, and
when something fails, repair deterministically or retry with a prompt that changes something.

Two walls stand between a model and the data: the guard (a pure check of the SQL text) and the
read-only role, reached in a fresh session per question through the extended protocol (one statement
only). Every attempt is recorded with its error, so the CLI and the app can show what happened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import psycopg
import pyarrow as pa

from thelook_ecommerce_analysis.config import environment
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import LLMProvider, LLMReply, LLMUnavailable
from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey, load_catalog
from thelook_ecommerce_analysis.rag.conversation import Turn, standalone_question
from thelook_ecommerce_analysis.rag.dialect import POSTGRES
from thelook_ecommerce_analysis.rag.execute import ResultTooLargeError, fetch_bounded
from thelook_ecommerce_analysis.rag.extract import extract_sql
from thelook_ecommerce_analysis.rag.fit import Intent, Misfit, check_fit, read_intent
from thelook_ecommerce_analysis.rag.guard import guard_sql
from thelook_ecommerce_analysis.rag.knowledge import Knowledge, load_knowledge
from thelook_ecommerce_analysis.rag.prompt import Example, Failure, PromptContext, build_messages
from thelook_ecommerce_analysis.rag.question import BadQuestionError, printable, question_key, read_question
from thelook_ecommerce_analysis.rag.repair import (
    Repair,
    parse_query,
    query_tables,
    repair_literals,
    repair_sql,
)
from thelook_ecommerce_analysis.rag.sentence import describe_result, rows_may_reach_the_model
from thelook_ecommerce_analysis.rag.suggest import next_questions
from thelook_ecommerce_analysis.rag.validate import ResultShape, describe_query
from thelook_ecommerce_analysis.rag.values import modest_text_columns, repair_stored_values
from thelook_ecommerce_analysis.rag.vote import Ballot, signature_key, vote

logger = logging.getLogger(__name__)

KNOWLEDGE_KINDS = ["table", "column", "metric"]
RAW_SCHEMA = "raw_data"
CANNOT_ANSWER = "CANNOT ANSWER"
LLM_DOWN_PREFIX = "could not reach the language model"
"""How an answer's error begins when the LLM is down (app/answers.py tells the person so)."""
TIMEOUT_ERROR = "the query took too long and was stopped"
"""An attempt's error when statement_timeout cancelled its query (app/answers.py tells the person so)."""


class Stage(StrEnum):
    """Where an attempt stands, in the order of the loop's stages; `done` is an attempt that ran."""

    GENERATE = "llm"
    EXTRACT = "extract"
    UNANSWERABLE = "unanswerable"
    LITERAL = "literal"
    GUARD = "guard"
    REPAIR = "repair"
    VALIDATE = "validate"
    EXECUTE = "execute"
    MISFIT = "misfit"
    DONE = "done"


class FailureKind(StrEnum):
    """Why a question got no answer, set by the engine so that callers never match error wordings."""

    BAD_QUESTION = "bad_question"
    LLM_DOWN = "llm_down"
    UNANSWERABLE = "unanswerable"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    NO_ANSWER = "no_answer"


DEFAULT_CANDIDATES = 3


@dataclass(frozen=True)
class EngineSettings:
    """Knobs of the loop (`thelook ask` flags and the app expose them)."""

    max_attempts: int = 3
    max_rows: int = 1000
    max_result_bytes: int = 16 << 20
    statement_timeout_ms: int = 15_000
    candidates: int = DEFAULT_CANDIDATES
    """Candidate queries asked for at once in the first round (the greedy one plus samples), then voted on."""
    sample_temperature: float = 0.7
    examples: int = 3
    metric_tables: int = 2
    """Metric tables shown beside the raw ones: those retrieval ranks first for the question."""
    metric_notes: int = 3
    retrieve_k: int = 16
    retry_temperature: float = 0.4
    repairs: bool = True
    fit_checks: bool = True
    use_examples: bool = True
    describe: bool = True
    """Add the answer in words and the next questions (one more LLM call when rows may reach the model)."""
    withheld_questions: frozenset[str] = frozenset()
    """Questions (normalised) whose stored examples must not reach the prompt: an evaluation's own."""

    @classmethod
    def from_environment(cls, **overrides: Any) -> EngineSettings:
        """The settings a deployment chose (THELOOK_CANDIDATES), then the caller's overrides."""
        configured = environment().candidates
        settings = cls(**({"candidates": configured} if configured else {}) | overrides)
        if settings.candidates < 1:
            raise ThelookError(f"candidates must be at least 1, got {settings.candidates}")
        return settings


@dataclass
class Attempt:
    """One try at a query: who wrote it (the model, a sample, a repair), what it was, and how it ended."""

    number: int
    source: str
    sql: str | None
    stage: str
    error: str | None = None
    note: str | None = None
    reasoning: str | None = None
    temperature: float | None = None
    misfit: str | None = None
    candidate: int = 0
    failure: FailureKind | None = None
    chosen: bool = False
    """The attempt whose rows are the answer."""

    @property
    def ok(self) -> bool:
        return self.stage == Stage.DONE


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
    failure: FailureKind | None = None
    notice: str | None = None
    changes: list[str] = field(default_factory=list)
    """What the loop changed in the model's query before it became the answer, each with its reason."""
    vote: str | None = None
    understood_as: str | None = None
    """The standalone question a follow-up was read as (what retrieval, the prompt and the checks saw)."""
    sentence: str | None = None
    sentence_source: str | None = None
    """llm: the model's sentence, every number checked against the rows; template: built without it."""
    suggestions: list[str] = field(default_factory=list)
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

    @property
    def chosen(self) -> Attempt | None:
        return next((attempt for attempt in self.attempts if attempt.chosen), None)

    def rows(self) -> list[list[Any]]:
        return _rows(self.table) if self.table is not None else []

    def to_json(self) -> dict[str, Any]:
        """The fields of `thelook ask --json`."""
        return {
            "question": self.question,
            "ok": self.ok,
            "sql": self.sql,
            "error": self.error,
            "failure": self.failure,
            "notice": self.notice,
            "changes": self.changes,
            "vote": self.vote,
            "understood_as": self.understood_as,
            "sentence": self.sentence,
            "sentence_source": self.sentence_source,
            "suggestions": self.suggestions,
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


Progress = Callable[[str, float | None], None]
"""Told each stage as it happens: (stage, None) when it starts, (stage, milliseconds) when it ends."""


class _Clock:
    """Adds up milliseconds per stage across attempts, and tells a listener as stages start and end."""

    def __init__(self, timings: dict[str, float], progress: Progress | None = None) -> None:
        self._timings = timings
        self._progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        if self._progress is not None:
            self._progress(name, None)
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self._timings[name] = self._timings.get(name, 0.0) + elapsed
            if self._progress is not None:
                self._progress(name, elapsed)


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
        # The first question must not pay the embedding model's start (loading it and onnxruntime's first
        # run, ~0.3 s): the engine's build pays it.
        self._embed("What were the sales last month?")
        with connect(reader_url) as connection:
            self.catalog: Catalog = load_catalog(connection)
            self.knowledge: Knowledge = load_knowledge(connection, self.catalog)
            self._searchable = modest_text_columns(connection, self.catalog)
        self._raw_tables = tuple(
            sorted(
                table
                for table in self.catalog.tables
                if table[0] == RAW_SCHEMA and not table[1].startswith("etl_")
            )
        )

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
            if (
                str(document.kind) == "example"
                and "sql" in metadata
                and question_key(metadata.get("question", "")) not in self.settings.withheld_questions
            ):
                examples.append(Example(metadata["question"], metadata["sql"]))
        # A retry sees the next examples (wrapping around): never the same prompt twice.
        offset = skip_examples % len(examples) if examples else 0
        chosen_examples = (examples[offset:] + examples[:offset])[: self.settings.examples]
        if not self.settings.use_examples:
            chosen_examples = []
        # Every raw table, always and in one order: they answer any question at their own grain, and
        # as the fixed first part of the prompt they stay in the LLM server's prompt cache. Metric tables
        # only where retrieval ranks them first, so they are offered where the question asks for what
        # they define, not by default.
        metric = [table for table in tables if table[0] != RAW_SCHEMA][: self.settings.metric_tables]
        chosen_tables = [*self._raw_tables, *metric]
        chosen_tables += [table for table in extra_tables if table not in chosen_tables]
        return PromptContext(tuple(chosen_tables), tuple(notes), tuple(chosen_examples))

    # -- checking and running -----------------------------------------------------------------------

    def _check(self, run: _Run, sql: str, attempt: Attempt) -> tuple[str, ResultShape] | None:
        """Guard, then validate (result shape without running): the checked SQL and its shape, or None
        with the attempt's stage and error set."""
        with run.clock.stage("guard"):
            verdict = guard_sql(sql, self.catalog, max_rows=self.settings.max_rows)
        if not verdict.ok:
            attempt.stage, attempt.error = Stage.GUARD, "; ".join([verdict.reason, *verdict.hints])
            return None
        with run.clock.stage("validate"):
            try:
                shape = describe_query(run.connection, verdict.sql)
            except psycopg.Error as error:
                attempt.stage, attempt.error = Stage.VALIDATE, _first_line(error)
                return None
        return verdict.sql, shape

    def _execute(self, run: _Run, sql: str, shape: ResultShape) -> pa.Table:
        """The rows of a checked query, bounded in bytes; a query another candidate already ran is not
        run again (candidates often agree word for word)."""
        if (known := run.executed.get(sql)) is not None:
            return known
        with run.clock.stage("execute"):
            rows = fetch_bounded(run.connection, sql, self.settings.max_result_bytes)
        names = list(shape.names)
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        table = pa.Table.from_arrays([pa.array(list(values)) for values in columns], names=names)
        run.executed[sql] = table
        return table

    # -- the loop -----------------------------------------------------------------------------------

    def ask(
        self,
        question: str | bytes,
        conversation: Sequence[Turn] = (),
        progress: Progress | None = None,
    ) -> Answer:
        """Answer one question, a follow-up of `conversation` (earlier turns, oldest first) or one on its
        own; never raises for bad input, a dead LLM or a failing query: the Answer carries the error in
        one readable line and the kind of failure. `progress` hears each stage as it happens."""
        started = time.perf_counter()
        answer = Answer(question=printable(question), provider=self.provider.describe())
        clock = _Clock(answer.timings_ms, progress)
        try:
            asked = read_question(question)
            with clock.stage("rewrite"):
                standalone = standalone_question(self.provider, asked, conversation)
            if standalone is not None:
                answer.understood_as = asked = standalone
            self._answer(asked, answer, clock)
            if answer.ok and self.settings.describe:
                self._describe(asked, answer, clock)
        except BadQuestionError as error:
            answer.error, answer.failure = str(error), FailureKind.BAD_QUESTION
        except LLMUnavailable as error:
            answer.error, answer.failure = f"{LLM_DOWN_PREFIX}: {error}", FailureKind.LLM_DOWN
        except ThelookError as error:
            answer.error, answer.failure = str(error), FailureKind.NO_ANSWER
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    def _describe(self, question: str, answer: Answer, clock: _Clock) -> None:
        """The answer in words (checked against its rows) and the next questions it suggests."""
        with clock.stage("sentence"):
            sentence = describe_result(
                self.provider, question, answer.table, rows_to_model=rows_may_reach_the_model()
            )
        answer.sentence, answer.sentence_source = sentence.text, sentence.source
        tree = parse_query(answer.sql or "")
        tables = dict.fromkeys(query_tables(tree, self.catalog).values()) if tree is not None else {}
        answer.suggestions = next_questions(
            answer.shape,
            answer.row_count,
            answer.sql or "",
            tables,
            catalog=self.catalog,
            values=self.knowledge.values,
        )

    def _answer(self, question: str, answer: Answer, clock: _Clock) -> None:
        # One fresh read-only session per question, for retrieval and every attempt: nothing a previous
        # question did can leak into it, and it costs one connection, not one per attempt.
        options = f"-c statement_timeout={self.settings.statement_timeout_ms}"
        with connect(self.reader_url, options=options, autocommit=True) as connection:
            run = _Run(question, read_intent(question, self.knowledge.values), answer, clock, connection)
            self._solve(run)

    def _solve(self, run: _Run) -> None:
        """The stages in a straight line: retrieve, prompt, generate the candidates, check each (guard,
        repair, validate, execute, fit), vote; then, if no candidate gave an answer that fits, one retry
        at a time with the reason stated, until an answer fits or the attempts run out.

        An answer that runs but does not fit (see rag/fit.py) is fixed deterministically where it can
        be, else retried with the reason; if no retry fits better, the first answer that ran is kept,
        with the reason as a notice, rather than thrown away."""
        answer, settings = run.answer, self.settings
        documents = self._retrieve(run.question, answer, run.clock, run.connection)
        context = self._context(documents)
        failure: Failure | None = None
        kept: Candidate | None = None
        retried: set[str] = set()
        extra_tables: tuple[TableKey, ...] = ()
        for number in range(1, settings.max_attempts + 1):
            if failure is None:
                temperatures = [0.0] + [settings.sample_temperature] * (settings.candidates - 1)
            else:
                skipped = settings.examples * (number - 1)
                context = self._context(documents, skip_examples=skipped, extra_tables=extra_tables)
                temperatures = [settings.retry_temperature]
            messages = build_messages(
                run.question,
                context,
                self.catalog,
                values=self.knowledge.values,
                comments=self.knowledge.comments,
                failure=failure,
            )
            replies = self._generate(run, messages, temperatures, number)
            retry = failure is not None
            candidates = [
                self._candidate(run, number, index, reply, temperature=temperature, retry=retry)
                for index, (reply, temperature) in enumerate(zip(replies, temperatures, strict=True))
            ]
            verdict = vote([candidate.ballot for candidate in candidates])
            if len(candidates) > 1:
                answer.vote = verdict.summary
            winner = candidates[verdict.winner] if verdict.winner is not None else None
            if winner is not None and winner.unanswerable is not None:
                answer.error = f"could not answer from this data: {winner.unanswerable}"
                answer.failure = FailureKind.UNANSWERABLE
                return
            if winner is None:
                failure = next(candidate.failure for candidate in candidates if candidate.failure)
                continue
            if winner.misfit is None:
                winner.adopt(answer)
                answer.ok = True
                return
            if kept is None or kept.misfit.kind == "empty":
                kept = winner
            if winner.misfit.kind in retried:
                break  # the model was told this once already: another try would cost, not help
            retried.add(winner.misfit.kind)
            failure = Failure(winner.sql, winner.misfit.reason, ran=True)
            extra_tables = winner.misfit.tables
        if kept is not None:
            kept.adopt(answer, notice=kept.misfit.notice)
            answer.ok = True
            return
        answer.error = f"could not answer after {settings.max_attempts} attempts: {failure.error}"
        seen = {attempt.failure for attempt in answer.attempts}
        answer.failure = next(
            (kind for kind in (FailureKind.TIMEOUT, FailureKind.TOO_LARGE) if kind in seen),
            FailureKind.NO_ANSWER,
        )

    def _generate(self, run: _Run, messages: list, temperatures: list[float], number: int) -> list[LLMReply]:
        """One reply per temperature, asked at once: a server with parallel slots (llama.cpp's
        `n_parallel`, Ollama's OLLAMA_NUM_PARALLEL) decodes them together, others queue them."""
        with run.clock.stage("llm"):
            if len(temperatures) == 1:
                return [self.provider.complete(messages, temperature=temperatures[0], seed=number)]
            with ThreadPoolExecutor(max_workers=len(temperatures)) as pool:
                futures = [
                    pool.submit(
                        self.provider.complete, messages, temperature=temperature, seed=number * 100 + i
                    )
                    for i, temperature in enumerate(temperatures)
                ]
                return [future.result() for future in futures]

    def _candidate(
        self, run: _Run, number: int, index: int, reply: LLMReply, *, temperature: float, retry: bool
    ) -> Candidate:
        """One candidate through the checks: extract its SQL, settle it (literal repair, guard, repairs,
        validate, execute) and judge its fit, every step a recorded attempt."""
        source = "llm-retry" if retry else ("llm" if index == 0 else "llm-sample")
        attempt = Attempt(
            number, source, None, Stage.GENERATE, temperature=temperature, candidate=index,
            reasoning=reply.reasoning,
        )  # fmt: skip
        candidate = Candidate(number, index, run.answer)
        run.answer.attempts.append(attempt)
        sql = extract_sql(reply.text)
        if sql is None:
            if CANNOT_ANSWER in reply.text.upper():
                attempt.stage, attempt.error = Stage.UNANSWERABLE, reply.text.strip()[:300]
                candidate.unanswerable = _reason_after(reply.text)
                return candidate
            attempt.stage, attempt.error = Stage.EXTRACT, "the model answered without SQL"
            candidate.failure = Failure(
                "SELECT ...", "no SQL query in the answer; answer with one ```sql block"
            )
            return candidate
        attempt.sql = sql
        if self._settle(run, candidate, sql, attempt):
            if self.settings.fit_checks:
                candidate.misfit = self._fit(run, candidate)
            if candidate.misfit is not None:
                judged = candidate.last
                judged.stage, judged.error, judged.misfit = (
                    Stage.MISFIT,
                    candidate.misfit.reason,
                    candidate.misfit.kind,
                )
            return candidate
        last = candidate.last
        candidate.failure = Failure(last.sql or sql, last.error or "failed", self._hints_for(last.sql or sql))
        return candidate

    def _fit(self, run: _Run, candidate: Candidate) -> Misfit | None:
        """Judge the answer that just ran against the question, applying each deterministic fix (one
        recorded attempt each) until it fits or only the model can fix what is left."""
        applied: set[str] = set()
        while True:
            with run.clock.stage("fit"):
                misfit = check_fit(run.intent, candidate.sql or "", candidate.table, self.catalog)
            if misfit is None or misfit.sql is None or misfit.kind in applied:
                return misfit
            applied.add(misfit.kind)
            previous = candidate.last
            previous.stage, previous.error, previous.misfit = Stage.MISFIT, misfit.reason, misfit.kind
            fixed = Attempt(
                previous.number, f"fit:{misfit.kind}", misfit.sql, Stage.REPAIR, note=misfit.reason,
                candidate=candidate.index,
            )  # fmt: skip
            run.answer.attempts.append(fixed)
            kept = (candidate.sql, candidate.table, candidate.shape)
            if not self._settle(run, candidate, misfit.sql, fixed):
                candidate.sql, candidate.table, candidate.shape = kept  # the fix broke it: keep what ran
                previous.stage, previous.error, previous.misfit = Stage.DONE, None, None
                return None

    def _settle(self, run: _Run, candidate: Candidate, sql: str, attempt: Attempt) -> bool:
        """Check and run `sql` for `candidate`; on failure try the deterministic repairs, each a recorded
        attempt. True when it ran (the candidate then holds the SQL and the rows)."""
        for literal in self._value_repairs(run, sql):
            attempt.stage, attempt.error = Stage.LITERAL, f"values that exist in no row: {literal.note}"
            attempt = Attempt(
                attempt.number, f"repair:{literal.kind}", literal.sql, Stage.REPAIR, note=literal.note,
                candidate=candidate.index,
            )  # fmt: skip
            run.answer.attempts.append(attempt)
            sql = literal.sql
        checked = self._check(run, sql, attempt)
        if checked is None and self.settings.repairs:
            checked = self._repair(run, candidate, sql, attempt)
        if checked is None:
            return False
        final_sql, shape = checked
        current = candidate.last
        try:
            table = self._execute(run, final_sql, shape)
        except psycopg.errors.QueryCanceled:
            current.stage, current.error, current.failure = Stage.EXECUTE, TIMEOUT_ERROR, FailureKind.TIMEOUT
            return False
        except ResultTooLargeError as error:
            current.stage, current.error, current.failure = Stage.EXECUTE, str(error), FailureKind.TOO_LARGE
            return False
        except psycopg.Error as error:
            current.stage, current.error = Stage.EXECUTE, _first_line(error)
            return False
        current.stage = Stage.DONE
        candidate.sql, candidate.table, candidate.shape = final_sql, table, shape
        return True

    def _value_repairs(self, run: _Run, sql: str) -> Iterator[Repair]:
        """Literals that match no row, replaced before the query runs (a query that compares with a value
        the data never holds runs and silently finds nothing): first those of listed categorical columns,
        then those of larger text columns, looked up in the column itself."""
        if not self.settings.repairs:
            return
        if (listed := repair_literals(sql, self.catalog, self.knowledge)) is not None:
            yield listed
            sql = listed.sql
        with run.clock.stage("values"):
            try:
                stored = repair_stored_values(
                    sql, self.catalog, self._searchable, self.knowledge.values, run.connection
                )
            except psycopg.Error:  # a query too broken to look its values up: the guard will say why
                stored = None
        if stored is not None:
            yield stored

    def _repair(self, run: _Run, candidate: Candidate, sql: str, attempt: Attempt):
        with run.clock.stage("repair"):
            repairs: list[Repair] = repair_sql(sql, self.catalog, self.knowledge)
        for repair in repairs:
            repaired = Attempt(
                attempt.number, f"repair:{repair.kind}", repair.sql, Stage.REPAIR, note=repair.note,
                candidate=candidate.index,
            )  # fmt: skip
            run.answer.attempts.append(repaired)
            checked = self._check(run, repair.sql, repaired)
            if checked is not None:
                return checked
        return None

    def _hints_for(self, sql: str) -> tuple[str, ...]:
        """The real columns of the tables a failed query used, for the retry prompt."""
        import sqlglot
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(sql, read=POSTGRES)
        except sqlglot.errors.SqlglotError:
            return ()
        hints = []
        for table in tree.find_all(exp.Table):
            key = self.catalog.resolve_table(table.name, table.db or None)
            if key is not None:
                hints.append(f"{key[0]}.{key[1]} has columns: {', '.join(self.catalog.column_names(key))}")
        return tuple(dict.fromkeys(hints))


@dataclass
class _Run:
    """One question's working state: its session, clock and the rows each checked query returned."""

    question: str
    intent: Intent
    answer: Answer
    clock: _Clock
    connection: psycopg.Connection
    executed: dict[str, pa.Table] = field(default_factory=dict)


UNANSWERABLE_SIGNATURE = "CANNOT ANSWER"
"""The vote of a candidate that says the data cannot answer: such candidates agree with each other."""


@dataclass
class Candidate:
    """One candidate query and how its checks went. Its attempts are the entries of the answer's
    append-only log with its round (`number`) and position (`index`)."""

    number: int
    index: int
    answer: Answer
    sql: str | None = None
    table: pa.Table | None = None
    shape: ResultShape | None = None
    misfit: Misfit | None = None
    failure: Failure | None = None
    unanswerable: str | None = None

    @property
    def last(self) -> Attempt:
        return self.answer.attempts[-1]

    @property
    def attempts(self) -> list[Attempt]:
        return [a for a in self.answer.attempts if (a.number, a.candidate) == (self.number, self.index)]

    @property
    def ballot(self) -> Ballot:
        if self.unanswerable is not None:
            return Ballot(self.index, UNANSWERABLE_SIGNATURE)
        if self.table is None:
            return Ballot(self.index, None)
        return Ballot(self.index, signature_key(_rows(self.table)), self.misfit is None)

    def adopt(self, answer: Answer, notice: str | None = None) -> None:
        """Make this candidate the answer, saying what the loop changed in the model's query."""
        chosen = next(a for a in reversed(self.attempts) if a.stage in (Stage.DONE, Stage.MISFIT))
        chosen.stage, chosen.error, chosen.misfit, chosen.chosen = Stage.DONE, None, None, True
        answer.sql, answer.table, answer.shape, answer.notice = self.sql, self.table, self.shape, notice
        answer.changes = [
            f"{a.source.split(':', 1)[1]}: {a.note}"
            for a in self.attempts
            if a.source.startswith(("repair:", "fit:")) and a.note
        ]


def _rows(table: pa.Table) -> list[list[Any]]:
    return [list(row.values()) for row in table.to_pylist()]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _reason_after(text: str) -> str:
    upper = text.upper()
    reason = text[upper.index(CANNOT_ANSWER) + len(CANNOT_ANSWER) :].strip(" :.-\n")
    return reason[:300] or "the question is not about the data this shop records"

"""What the chat shows while a question is being answered: the engine's stages in words a shop manager
reads ("Finding tables", "Writing SQL", "Checking", "Running"), each with the time it has taken so far.

The engine tells its stages as they start and end (QuestionEngine.ask's `progress`), many of them more
than once: every candidate query is guarded, validated, run and judged, and a retry writes SQL again. A
line per stage call would be a wall of "Checking"; so the stages are grouped under their label, one line
per label in the order first seen, the time added up, and a label is "running" while any of its stages
is. No Streamlit here: the page draws what this log says, and the grouping is tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGE_LABELS: dict[str, str] = {
    "rewrite": "Reading the follow-up",
    "embed": "Finding tables",
    "retrieve": "Finding tables",
    "llm": "Writing SQL",
    "values": "Checking",
    "guard": "Checking",
    "validate": "Checking",
    "repair": "Checking",
    "fit": "Checking",
    "execute": "Running",
    "sentence": "Putting it in words",
}
"""The engine's stage names (rag/engine.py) and the words shown for them."""

REWRITE_STAGE = "rewrite"


def stage_label(stage: str) -> str:
    """The words for an engine stage; a stage this table does not know yet is shown by its own name."""
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


def format_duration(ms: float) -> str:
    """'840 ms' under a second, '3.2 s' above."""
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"


@dataclass
class Step:
    """One label's share of the work so far."""

    label: str
    ms: float = 0.0
    running: int = 0
    """Stages under this label that have started and not ended yet."""

    @property
    def line(self) -> str:
        """One markdown line: a spinner-like mark while running, a tick and the time once done."""
        if self.running:
            return f":material/progress_activity: {self.label}..."
        return f":material/check: {self.label} ({format_duration(self.ms)})"


class StageLog:
    """The steps of one question, fed with the engine's (stage, None | ms) events.

    A question that stands on its own still passes through the engine's rewrite stage (which then asks no
    model, in no time): it is left out unless the question is a follow-up, so nobody reads "Reading the
    follow-up" under a question that was not one."""

    def __init__(self, *, follow_up: bool) -> None:
        self._follow_up = follow_up
        self._steps: dict[str, Step] = {}

    def record(self, stage: str, ms: float | None) -> None:
        """A stage started (`ms` None) or ended after `ms` milliseconds."""
        if stage == REWRITE_STAGE and not self._follow_up:
            return
        label = stage_label(stage)
        step = self._steps.setdefault(label, Step(label))
        if ms is None:
            step.running += 1
        else:
            step.running = max(0, step.running - 1)
            step.ms += ms

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps.values())

    def markdown(self) -> str:
        return steps_markdown(self.steps)

    def headline(self) -> str:
        """The status box's label: what is happening now."""
        running = [step.label for step in self._steps.values() if step.running]
        return f"{running[-1]}..." if running else "Working on it..."


def steps_markdown(steps: tuple[Step, ...]) -> str:
    """The steps as markdown lines (two trailing spaces break the line without a list's indent)."""
    return "  \n".join(step.line for step in steps)


def finished_headline(total_ms: float, ok: bool) -> str:
    """The status box's label once the answer is in."""
    return f"{'Answered' if ok else 'No answer'} in {format_duration(total_ms)}"

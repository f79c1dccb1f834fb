"""The app's per-process objects and the status panel, cached by Streamlit.

The question engine (catalog, categorical values, embedding model, LLM provider) is expensive to build
and safe to share, so it is built ONCE per process, in the background from the first page on
(app/warmup.py), and cached with st.cache_resource, keyed by the database URL and the LLM settings:
changing THELOOK_LLM or OLLAMA_HOST (as the tests do) gives a new engine rather than a
stale one. Status checks are cached for a minute so that every rerun of a page does not ping the servers.
"""

from __future__ import annotations

import streamlit as st

from thelook_ecommerce_analysis.app.feedback import FeedbackStore
from thelook_ecommerce_analysis.app.status import (
    DatabaseStatus,
    EtlRun,
    check_database,
    last_etl_run,
    tool_links,
)
from thelook_ecommerce_analysis.app.warmup import EngineWarmup
from thelook_ecommerce_analysis.config import database_url, paths
from thelook_ecommerce_analysis.llm.select import ChosenProvider, LLMSettings, choose_provider
from thelook_ecommerce_analysis.rag.engine import EngineSettings, QuestionEngine

STATUS_TTL_S = 60


def reader_url() -> str:
    """The read-only role's URL: everything the app shows is read through it."""
    return database_url("reader")


def llm_settings() -> LLMSettings:
    return LLMSettings.from_environment()


@st.cache_resource(show_spinner=False, hash_funcs={LLMSettings: repr})
def llm_provider(settings: LLMSettings) -> ChosenProvider:
    """One provider per settings: the embedded llama.cpp server is started at most once."""
    return choose_provider(settings)


def _build_engine(url: str, settings: LLMSettings) -> QuestionEngine:
    """The engine, embedding model and LLM provider included (it warms the model itself)."""
    return QuestionEngine(url, llm_provider(settings), EngineSettings.from_environment())


@st.cache_resource(show_spinner=False, hash_funcs={LLMSettings: repr})
def engine_warmup(url: str, settings: LLMSettings) -> EngineWarmup:
    """The engine's background build, started by the first page the app renders (main.py)."""
    return EngineWarmup(lambda: _build_engine(url, settings))


def question_engine(url: str, settings: LLMSettings) -> QuestionEngine:
    """The engine; waits only for what is left of its background build."""
    return engine_warmup(url, settings).engine()


@st.cache_resource(show_spinner=False)
def feedback_store(owner_url: str) -> FeedbackStore:
    return FeedbackStore(owner_url, paths().sql)


@st.cache_data(ttl=STATUS_TTL_S, show_spinner=False, hash_funcs={LLMSettings: repr})
def llm_health(settings: LLMSettings) -> tuple[bool, str]:
    return llm_provider(settings).health()


@st.cache_data(ttl=STATUS_TTL_S, show_spinner=False)
def database_status(url: str) -> DatabaseStatus:
    return check_database(url)


@st.cache_data(ttl=STATUS_TTL_S, show_spinner=False)
def latest_etl_run(url: str) -> EtlRun | None:
    return last_etl_run(url)


def render_status_panel(url: str, settings: LLMSettings) -> None:
    """The sidebar: which LLM and whether it answers, the database, the last ETL run, tool links."""
    with st.sidebar:
        st.subheader("Status")
        warmup = engine_warmup(url, settings).state()
        colour = "red" if warmup.error else "green" if warmup.ready else "orange"
        st.markdown(f"**Question engine** :{colour}[{warmup.line}]")
        provider = llm_provider(settings)
        answers, why = llm_health(settings)
        st.markdown(f"**LLM** {':green[answering]' if answers else ':red[not answering]'}")
        st.caption(f"{provider.describe()}. {why if not answers else provider.reason}")
        database = database_status(url)
        if database.ok:
            st.markdown(f"**Database** :green[connected] ({database.latency_ms:.0f} ms)")
            st.caption(database.detail)
            run = latest_etl_run(url)
            st.markdown("**Last ETL run**")
            if run is None:
                st.caption("no run yet: `thelook run` loads the data")
            else:
                colour = (
                    "green" if run.status == "success" else "orange" if run.status == "running" else "red"
                )
                st.caption(f":{colour}[{run.summary}]")
                if run.error:
                    st.caption(f"error: {run.error}")
        else:
            st.markdown("**Database** :red[not reachable]")
            st.caption(database.detail)
        if links := tool_links():
            st.markdown(" · ".join(f"[{name}]({link})" for name, link in links.items()))

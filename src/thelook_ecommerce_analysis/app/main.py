"""The Streamlit entry script (`thelook app` runs `streamlit run` on this file): page setup, navigation
between the chat and the dashboard, and the status panel every page shows."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from thelook_ecommerce_analysis.app.resources import (
    engine_warmup,
    llm_settings,
    reader_url,
    render_status_panel,
)
from thelook_ecommerce_analysis.errors import ThelookError

# Not "pages/": Streamlit would also read a folder of that name as its legacy multipage app, and a page
# opened by its URL would then skip this script (raw file names in the sidebar, no status panel).
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="thelook: ask the shop", page_icon=":material/storefront:", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "chat.py", title="Ask a question", icon=":material/chat:", default=True),
        st.Page(PAGES / "dashboard.py", title="Dashboard", icon=":material/monitoring:"),
    ]
)
try:
    engine_warmup(reader_url(), llm_settings())  # starts the question engine's build, once per process
    render_status_panel(reader_url(), llm_settings())
except ThelookError as error:
    st.sidebar.error(str(error))
navigation.run()

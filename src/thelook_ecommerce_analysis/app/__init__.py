"""The Streamlit app: ask questions in plain language (chat page) and watch the business (dashboard).

`main.py` is the entry script (`thelook app` runs it); `views/` holds the two pages (not `pages/`, which
Streamlit would also read as its legacy multipage folder). The logic lives in plain modules the pages
call: `charts` (which chart fits a result), `answers` (friendly failures, CSV), `history` (the chat's
turns and the conversation a question is read against), `progress` (the stages in words, with their
times), `feedback` (the learning loop), `dashboard_data` (metric queries and KPI arithmetic), `status`
(database, last ETL run, tool links), and `resources` (the per-process objects Streamlit caches).
"""

"""The Streamlit app: ask questions in plain language (chat page) and watch the business (dashboard).

`main.py` is the entry script (`thelook app` runs it); `pages/` holds the two pages. The logic lives in
plain modules the pages call: `charts` (which chart fits a result), `answers` (friendly failures, CSV),
`feedback` (the learning loop), `dashboard_data` (metric queries and KPI arithmetic), `status` (database,
last ETL run, tool links), and `resources` (the per-process objects Streamlit caches).
"""

"""Pure chart builders: a small DataFrame and options in, a plotly Figure or pyecharts chart out.

No database and no Streamlit here: every builder is unit-tested on a few inline rows.
"""

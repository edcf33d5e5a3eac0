"""The SQL store: schema, engine and URL resolution, migrations, queries. No Streamlit here."""

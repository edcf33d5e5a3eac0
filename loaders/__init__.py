"""Reading spreadsheets into the store, and the demo-data generator. No Streamlit here."""

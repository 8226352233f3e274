"""The boundary to the card acquirer: plain dataclasses (interface.py) and a YooKassa API v3 client."""

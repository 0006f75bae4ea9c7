"""The chat in a terminal, on Textual and the chat_client module."""

"""The ASGI app: `uvicorn app:app`, or `python app.py` to serve on CHATBOT_HOST:CHATBOT_PORT."""

from chatbot.api import create_app
from shopcore.settings import get_settings

app = create_app()

if __name__ == "__main__":
    import uvicorn

    settings = get_settings()
    uvicorn.run(app, host=settings.host, port=settings.port)

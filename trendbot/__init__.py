"""trendbot: collect the day's AI trends and write them into a Jekyll post."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/trendbot/trendbot"
USER_AGENT = f"trendbot/{__version__} (+{PROJECT_URL})"

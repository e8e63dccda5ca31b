"""The Slack adapter: bolt listeners, Block Kit rendering, the notifier and the HTTP server."""

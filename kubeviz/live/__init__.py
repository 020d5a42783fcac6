"""The dashboard's live stream: a websocket per cluster carrying a snapshot, then every change."""

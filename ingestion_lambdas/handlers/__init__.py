"""One thin module per Lambda: parse the event, call one service, return a model dump."""

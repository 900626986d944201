"""Prompts: catalogue, spoken values, TTS rendering and the audio cache (issue #4 item 4)."""

"""Prompts: catalogue, spoken values, TTS rendering and the audio cache."""

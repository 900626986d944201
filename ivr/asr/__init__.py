"""Speech input for IVR menus: Vosk recognition off the reactor thread.

``AsrService`` is what the IVR uses (Deferreds, bounded threads, DTMF
fallback when no model is configured); ``SpeechRecognizer`` is the blocking
core; ``ivr.asr.model`` finds and prepares model directories.
"""

from ivr.asr.model import (
    AsrError,
    ModelNotFoundError,
    bundled_test_model,
    check_model_dir,
    model_path_from_settings,
    prepare_deterministic_model,
)
from ivr.asr.recognizer import Recognition, SpeechRecognizer, Word, load_model, match_phrase
from ivr.asr.service import AsrService, AsrUnavailable, grammar_for, match_option

__all__ = [
    "AsrError", "AsrService", "AsrUnavailable", "ModelNotFoundError", "Recognition", "SpeechRecognizer",
    "Word", "bundled_test_model", "check_model_dir", "grammar_for", "load_model", "match_option",
    "match_phrase", "model_path_from_settings", "prepare_deterministic_model",
]

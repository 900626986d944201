"""Menus as data: the typed definition, its validation, YAML import/export and versioned storage."""

from ivr.menu.model import (
    ACTIONS,
    ActionNode,
    AnnouncementNode,
    BlacklistPolicy,
    BusinessHours,
    CallbackNode,
    DigitInputNode,
    GotoNode,
    HangupNode,
    LanguageNode,
    MenuDefinition,
    MenuNode,
    MenuSettings,
    Node,
    Option,
    QueueNode,
    SurveyNode,
    VoicemailNode,
)
from ivr.menu.validate import check, validate
from ivr.menu.yaml_io import dump_yaml, from_dict, load_yaml, to_dict

__all__ = [
    "ACTIONS", "ActionNode", "AnnouncementNode", "BlacklistPolicy", "BusinessHours", "CallbackNode",
    "DigitInputNode", "GotoNode", "HangupNode", "LanguageNode", "MenuDefinition", "MenuNode", "MenuSettings",
    "Node", "Option", "QueueNode", "SurveyNode", "VoicemailNode", "check", "dump_yaml", "from_dict", "load_yaml",
    "to_dict", "validate",
]

"""Automated outbound campaigns on the IVR's own menu engine: a campaign menu run on an answered campaign call."""

from ivr.campaign.runner import CampaignScriptRunner

__all__ = ["CampaignScriptRunner"]

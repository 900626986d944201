"""mod_dptools-like applications for simulated channels; importing this registers them all."""

from freeswitch.sim.apps import amd, basic, bridge, eavesdrop, fax, media, record  # noqa: F401

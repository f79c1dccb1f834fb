"""Kedro project settings: the config loader with globals and credentials, and the project's hooks."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
        "globals": ["globals*.yml", "globals*/**"],
    },
}

from thelook_ecommerce_analysis.hooks import (  # noqa: E402
    CreateIndexesHook,
    ResourceMonitoringHook,
    RunLogHook,
)

# Order matters for the run log: tables exist (CreateIndexesHook) before the run is recorded.
HOOKS = (CreateIndexesHook(), RunLogHook(), ResourceMonitoringHook())

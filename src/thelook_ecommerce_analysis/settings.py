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
    # An environment's catalog changes only the keys it names (conf/spark/ swaps the engine of the
    # Parquet files and of the tables the metrics read, and nothing else).
    "merge_strategy": {"catalog": "soft"},
}

from thelook_ecommerce_analysis.hooks import (  # noqa: E402
    CreateIndexesHook,
    ResourceMonitoringHook,
    RunLockHook,
    RunLogHook,
)

# Kedro calls hooks last-registered first: the DDL (CreateIndexesHook) must run before the run log
# records the run in raw_data.etl_runs. The job's lock is taken before all of them and let go after all
# of them whatever the order (tryfirst/trylast); the run log marks dead runs only under that lock.
_RUN_LOCK = RunLockHook()
HOOKS = (ResourceMonitoringHook(), RunLogHook(_RUN_LOCK), CreateIndexesHook(), _RUN_LOCK)

# Kedro-Viz's own run hooks write .viz/ files on every run; the job does not need them.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)

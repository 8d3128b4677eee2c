"""Configuration: the schema and its defaults (``schema``), validated loading (``load``), the
starter file (``starter``) and `config show` (``show``)."""

from gpuscout.jobs.config.load import config_path, load_config, parse_config
from gpuscout.jobs.config.schema import (
    SMTP_PASSWORD_ENV,
    AlertRule,
    ClusterConfig,
    Config,
    EmailConfig,
    FetchConfig,
    NotifyConfig,
    ScanConfig,
    ScoringConfig,
    SearchConfig,
    SourceConfig,
    WatchConfig,
)
from gpuscout.jobs.config.urls import mask_url

__all__ = ["SMTP_PASSWORD_ENV", "AlertRule", "ClusterConfig", "Config", "EmailConfig",
           "FetchConfig", "NotifyConfig", "ScanConfig", "ScoringConfig", "SearchConfig",
           "SourceConfig", "WatchConfig", "config_path", "load_config", "mask_url", "parse_config"]

"""``sources.yaml``: the models of every section (``models``) and reading the file with line
numbers in every error (``load``). Import from here."""

from scanner.config.base import SUBMISSIONS_SOURCE, parse_interval, parse_size
from scanner.config.delivery import CHANNEL_KINDS, DigestConfig, EmailChannel, EmailConfig, WebhookChannel
from scanner.config.load import config_schema, load_config, parse_config, schema_json
from scanner.config.models import (
    SOURCE_KINDS,
    AnalysisConfig,
    CkanSource,
    Config,
    FileSource,
    HtmlSource,
    RssSource,
    Settings,
    SourceConfig,
    Topic,
    looks_like_path,
)

__all__ = ["CHANNEL_KINDS", "SOURCE_KINDS", "SUBMISSIONS_SOURCE",
           "AnalysisConfig", "CkanSource", "Config", "DigestConfig", "EmailChannel",
           "EmailConfig", "FileSource", "HtmlSource", "RssSource", "Settings", "SourceConfig", "Topic",
           "WebhookChannel", "config_schema", "load_config", "looks_like_path", "parse_config", "parse_interval",
           "parse_size", "schema_json"]

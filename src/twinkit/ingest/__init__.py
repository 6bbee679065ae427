"""Device → platform: MQTT ingestion, payload mappers, dedupe, limits, the embedded broker."""

from twinkit.ingest.broker_url import BrokerAddress, parse_broker_url
from twinkit.ingest.embedded_broker import EmbeddedBroker
from twinkit.ingest.mappers import Mapper, Mappers
from twinkit.ingest.mqtt import MqttLink, Will
from twinkit.ingest.pipeline import AutoCreate, Ingest, IngestSettings
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.rejections import IngestStats
from twinkit.ingest.signals import Signal

__all__ = [
    "AutoCreate",
    "BrokerAddress",
    "EmbeddedBroker",
    "Ingest",
    "IngestSettings",
    "IngestStats",
    "Mapper",
    "Mappers",
    "Message",
    "MqttLink",
    "Signal",
    "Will",
    "parse_broker_url",
]

"""How far the core consumer group is behind the intake log (for /healthz and status)."""

from __future__ import annotations

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition


def consumer_lag(bootstrap_servers: str, group_id: str, topic: str) -> dict[str, int]:
    """End offsets, committed offsets and their difference, summed over the partitions."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions)
        committed = admin.list_group_offsets(group_id).get(group_id, {})
        end_total = sum(ends.values())
        offsets = [committed[tp].offset for tp in partitions if tp in committed]
        committed_total = sum(offset for offset in offsets if offset >= 0)
        return {
            "partitions": len(partitions),
            "end_offset": end_total,
            "committed": committed_total,
            "lag": end_total - committed_total,
        }
    finally:
        consumer.close()
        admin.close()

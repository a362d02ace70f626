"""The one place that chooses the search index a stage runs, from the settings."""

from __future__ import annotations

from functools import cache

from chalicelib.core.config import get_settings
from chalicelib.search.port import SearchIndex


@cache
def search_index() -> SearchIndex:
    """OpenSearch when ``OPENSEARCH_ENDPOINT`` is set, else the DynamoDB index.

    The OpenSearch adapter (and opensearch-py behind it) is imported only then, so stages
    without a domain never load it.
    """
    settings = get_settings()
    if settings.opensearch_endpoint:
        from chalicelib.search.opensearch_adapter import OpenSearchIndex

        return OpenSearchIndex(
            settings.opensearch_endpoint,
            settings.opensearch_index_prefix or f"shutter-{settings.stage}",
            region=settings.aws_region,
            service=settings.opensearch_signing_service,
        )
    from chalicelib.search.dynamodb_adapter import DynamoDBSearchIndex

    return DynamoDBSearchIndex()

"""The service answers Ping and lists the seeded topics."""

from tests.helpers import Api, customer


async def test_ping_answers_empty_object_to_an_authenticated_caller(api: Api) -> None:
    assert await api.ok("Ping", {}, customer(1)) == {}

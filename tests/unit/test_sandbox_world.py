from datetime import UTC, datetime

from sandbox.flat_reports import MERCHANT_LISTINGS_HEADER, render_merchant_listings
from sandbox.report_content import ReportRequest, amazon_flat_file_time, encode_flat_file
from sandbox.world import World


def test_same_seed_same_world_other_seed_other_world():
    a, b, c = World(seed=7), World(seed=7), World(seed=8)
    assert a.listings("demo-seller-na", "ATVPDKIKX0DER") == b.listings("demo-seller-na", "ATVPDKIKX0DER")
    assert a.listings("demo-seller-na", "ATVPDKIKX0DER") != c.listings("demo-seller-na", "ATVPDKIKX0DER")


def test_scale_grows_the_catalog():
    assert len(World(scale=4).products) == 4 * len(World(scale=1).products)


def test_listings_report_has_the_real_header_and_one_row_per_listing():
    world = World()
    now = datetime.now(UTC)
    report = render_merchant_listings(world, ReportRequest("demo-seller-na", "ATVPDKIKX0DER", now, now, {}, now))
    assert report.header == MERCHANT_LISTINGS_HEADER
    assert len(report.rows) == len(world.listings("demo-seller-na", "ATVPDKIKX0DER")) > 0
    assert all(len(row) == len(MERCHANT_LISTINGS_HEADER) for row in report.rows)


def test_japanese_flat_files_encode_in_windows_31j():
    world = World()
    now = datetime.now(UTC)
    report = render_merchant_listings(world, ReportRequest("demo-seller-fe", "A1VC38T7YXB528", now, now, {}, now))
    data = encode_flat_file(report, "windows-31j")
    assert "【正規品】" in data.decode("cp932")
    assert data != encode_flat_file(report, "UTF-8")


def test_flat_file_times_carry_the_local_zone():
    moment = datetime(2024, 7, 17, 18, 43, 27, tzinfo=UTC)
    assert amazon_flat_file_time(moment, "ATVPDKIKX0DER") == "2024-07-17 11:43:27 PDT"
    assert amazon_flat_file_time(moment, "A1VC38T7YXB528") == "2024-07-18 03:43:27 JST"

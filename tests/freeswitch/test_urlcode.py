"""FreeSWITCH's URL-encoding set, checked against the captured values."""

from freeswitch.esl.urlcode import fs_url_decode, fs_url_encode


def test_encodes_the_same_bytes_freeswitch_did_in_capture_07() -> None:
    assert fs_url_encode("\"#&+:;<=>?@[\\]^`{|} ,/()!~*'$") == (
        "%22%23%26%2B%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%20,/()!~*'$")
    assert fs_url_encode("über €") == "%C3%BCber%20%E2%82%AC"
    assert fs_url_encode("a\tb") == "a%09b"
    assert fs_url_encode("50%zz and 7%") == "50%25zz%20and%207%25"


def test_percent_followed_by_two_hex_digits_is_not_reencoded_so_decoding_is_lossy() -> None:
    assert fs_url_encode("100%41 stays") == "100%41%20stays"
    assert fs_url_decode("100%41%20stays") == "100A stays"


def test_invalid_escapes_decode_verbatim() -> None:
    assert fs_url_decode("50%zz%") == "50%zz%"

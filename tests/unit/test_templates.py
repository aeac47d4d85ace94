from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.campaigns.templates import (
    CONTACT_FIELDS,
    Placeholder,
    TemplateError,
    check_placeholders,
    parse_template,
    render_for_contact,
)
from outreach.errors import ValidationFailed

# --- rendering -------------------------------------------------------------------


def test_renders_contact_values() -> None:
    template = parse_template("Hi {first_name} {last_name} of {company}, {email} {phone}")
    values = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Engines Ltd",
        "email": "ada@example.com",
        "phone": "+16175550123",
    }
    assert (
        template.render(values, {})
        == "Hi Ada Lovelace of Engines Ltd, ada@example.com +16175550123"
    )


def test_placeholders_report_field_fallback_and_span() -> None:
    body = "Hi {first_name|there}, {attributes.color}!"
    template = parse_template(body)
    assert template.placeholders == (
        Placeholder(field="first_name", fallback="there", start=3, end=21),
        Placeholder(field="attributes.color", fallback=None, start=23, end=41),
    )
    assert body[3:21] == "{first_name|there}"
    assert body[23:41] == "{attributes.color}"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_value_uses_the_fallback(value: str | None) -> None:
    template = parse_template("Hi {first_name|there}!")
    assert template.render({"first_name": value}, {}) == "Hi there!"


def test_missing_value_uses_the_fallback() -> None:
    assert parse_template("Hi {first_name|there}!").render({}, {}) == "Hi there!"


def test_present_value_wins_over_the_fallback() -> None:
    template = parse_template("Hi {first_name|there}!")
    assert template.render({"first_name": "Sam"}, {}) == "Hi Sam!"


def test_missing_value_without_fallback_is_empty() -> None:
    assert parse_template("Hi {first_name}!").render({}, {}) == "Hi !"


def test_empty_fallback_renders_nothing() -> None:
    template = parse_template("Hi{first_name|}!")
    assert template.placeholders[0].fallback == ""
    assert template.render({"first_name": None}, {}) == "Hi!"


def test_fallback_keeps_spaces_and_punctuation_literally() -> None:
    template = parse_template("Hello{first_name| dear friend, (again)}.")
    assert template.render({}, {}) == "Hello dear friend, (again)."


def test_attributes_present_and_absent() -> None:
    # Attributes are looked up by their stored keys (outreach.contacts.domain.attribute_key).
    template = parse_template("Your {attributes.roof-type|roof} in {attributes.zip_code}.")
    assert template.render({}, {"roof_type": "slate", "zip_code": "02139"}) == (
        "Your slate in 02139."
    )
    assert template.render({}, {}) == "Your roof in ."


def test_attribute_keys_are_not_contact_fields() -> None:
    # An attribute named like a contact field is still looked up in attributes.
    template = parse_template("{attributes.first_name|none}")
    assert template.render({"first_name": "Ada"}, {}) == "none"


def test_braces_in_values_are_removed() -> None:
    template = parse_template("Hi {first_name|there}, {attributes.note}")
    rendered = template.render({"first_name": "{Ada}"}, {"note": "a}b{c"})
    assert rendered == "Hi Ada, abc"


def test_value_of_only_braces_uses_the_fallback() -> None:
    template = parse_template("Hi {first_name|there}")
    assert template.render({"first_name": "{}"}, {}) == "Hi there"


def test_render_for_contact() -> None:
    template = parse_template("{first_name|Hi}, {company|your team}: {attributes.plan|basic}")
    contact = {
        "first_name": "Ada",
        "last_name": None,
        "company": None,
        "email": "ada@example.com",
        "phone": "+16175550123",
        "attributes": {"plan": "pro"},
    }
    assert render_for_contact(template, contact) == "Ada, your team: pro"


def test_render_for_contact_without_attributes() -> None:
    template = parse_template("{attributes.plan|basic}")
    assert render_for_contact(template, {"first_name": "Ada"}) == "basic"
    assert render_for_contact(template, {"attributes": None}) == "basic"


# --- errors ----------------------------------------------------------------------


def error_of(body: str) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        parse_template(body)
    return caught.value


@pytest.mark.parametrize(
    ("body", "position", "message"),
    [
        ("Hello there {foo}", 12, "unknown placeholder {foo} at position 12"),
        ("{First_Name}", 0, "unknown placeholder {First_Name} at position 0"),
        ("Hi {name|there}", 3, "unknown placeholder {name|there} at position 3"),
        ("Hi {first_name, thanks}", 3, "unknown placeholder {first_name, thanks} at position 3"),
        (
            "Hi {attributes.}",
            3,
            "unknown placeholder {attributes.} at position 3: "
            "an attribute key is 1 to 64 letters, digits, spaces, '_', '-' or '.'",
        ),
        (
            "{attributes.a/b}",
            0,
            "unknown placeholder {attributes.a/b} at position 0: "
            "an attribute key is 1 to 64 letters, digits, spaces, '_', '-' or '.'",
        ),
    ],
)
def test_unknown_placeholder(body: str, position: int, message: str) -> None:
    error = error_of(body)
    assert error.position == position
    assert str(error) == message


def test_attribute_key_of_64_characters_is_allowed_but_not_65() -> None:
    assert parse_template("{attributes." + "k" * 64 + "}").placeholders[0].field == (
        "attributes." + "k" * 64
    )
    assert error_of("{attributes." + "k" * 65 + "}").message.startswith("unknown placeholder")


@pytest.mark.parametrize(
    ("body", "position", "suggestion"),
    [
        ("Hi { first_name }", 3, "{first_name}"),
        ("Hi {first_name }", 3, "{first_name}"),
        ("Hi {\tfirst_name|there}", 3, "{first_name|there}"),
        ("Hi {first_name |there}", 3, "{first_name|there}"),
        ("Hi { attributes.color}", 3, "{attributes.color}"),
    ],
)
def test_whitespace_around_field_name_is_an_error(
    body: str, position: int, suggestion: str
) -> None:
    error = error_of(body)
    assert error.position == position
    assert str(error) == (
        f"whitespace is not allowed inside a placeholder: {body[3:]} at position 3; "
        f"write {suggestion}"
    )


def test_stray_closing_brace() -> None:
    error = error_of("Hi there} {first_name}")
    assert error.position == 8
    assert str(error) == ("stray '}' at position 8: a brace is only allowed around a placeholder")


def test_closing_brace_after_a_placeholder_is_stray() -> None:
    error = error_of("{first_name}}")
    assert error.position == 12
    assert "stray '}'" in str(error)


def test_unclosed_brace() -> None:
    error = error_of("Hi {first_name, how are you")
    assert error.position == 3
    assert str(error) == "unclosed '{' at position 3: a placeholder must end with '}'"


def test_lone_opening_brace_at_the_end() -> None:
    assert error_of("Hi {first_name} {").position == 16


def test_nested_braces() -> None:
    error = error_of("Hi {first_name|{company}}")
    assert error.position == 15
    assert str(error) == (
        "nested '{' at position 15 inside the placeholder opened at position 3: "
        "placeholders cannot be nested"
    )


def test_doubled_braces_are_not_an_escape() -> None:
    error = error_of("Use {{code}} at checkout")
    assert error.position == 5
    assert "nested '{'" in str(error)


@pytest.mark.parametrize("body", ["Hi {}", "Hi {|there}"])
def test_placeholder_without_field_name(body: str) -> None:
    error = error_of(body)
    assert error.position == 3
    assert str(error) == f"placeholder {body[3:]} at position 3 has no field name"


def test_second_pipe_in_fallback() -> None:
    error = error_of("Hi {first_name|a|b}")
    assert error.position == 16
    assert str(error) == (
        "second '|' at position 16 in placeholder {first_name|a|b}: a fallback cannot contain '|'"
    )


def test_first_error_is_reported_and_positions_count_characters_not_bytes() -> None:
    # "é" and the emoji are one character each: positions are str offsets.
    error = error_of("Café 👋 {foo} then }")
    assert error.position == 7
    assert "{foo} at position 7" in str(error)


def test_template_error_is_a_value_error() -> None:
    assert isinstance(error_of("{"), ValueError)


# --- variants --------------------------------------------------------------------


def test_valid_variants_pass() -> None:
    check_placeholders([("A", "Hi {first_name|there}"), ("B", "Hey {attributes.x|you}!")])


def test_check_placeholders_reports_every_bad_variant_with_its_index_and_name() -> None:
    variants = [
        ("A", "Hi {first_name|there}"),
        ("B", "Hello there {foo}"),
        ("C", "Fine"),
        ("Spring promo", "Hi { first_name }"),
        ("E", "Open {"),
    ]
    with pytest.raises(ValidationFailed) as caught:
        check_placeholders(variants)
    error = caught.value
    assert error.status == 422
    assert error.errors == [
        {
            "loc": ["body", "variants", 1, "body"],
            "msg": "variant 'B': unknown placeholder {foo} at position 12",
        },
        {
            "loc": ["body", "variants", 3, "body"],
            "msg": "variant 'Spring promo': whitespace is not allowed inside a placeholder: "
            "{ first_name } at position 3; write {first_name}",
        },
        {
            "loc": ["body", "variants", 4, "body"],
            "msg": "variant 'E': unclosed '{' at position 5: a placeholder must end with '}'",
        },
    ]
    # Counted as every 422 problem counts its errors (the document's ValidationProblem).
    assert error.extra == {"errors": error.errors, "error_count": 3}
    assert "variant 'B'" in error.detail
    assert "variant 'E'" in error.detail


def test_check_placeholders_accepts_an_empty_list() -> None:
    check_placeholders([])


# --- properties ------------------------------------------------------------------

brace_free_text = st.text(alphabet=st.characters(exclude_characters="{}"))
fallback_text = st.text(alphabet=st.characters(exclude_characters="{}|"), max_size=20)
# A few keys, so that templates and attribute dicts often meet.
attribute_key = st.sampled_from(["color", "plan", "zip-code"]) | st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True
)
field_name = st.sampled_from(CONTACT_FIELDS) | attribute_key.map(lambda key: f"attributes.{key}")
# Values lean on braces: a contact's name may hold any text.
value_text = st.text(alphabet="{}a ", max_size=8) | st.text(max_size=20)


@st.composite
def placeholder_text(draw: st.DrawFn) -> str:
    field = draw(field_name)
    fallback = draw(st.none() | fallback_text)
    return "{" + field + ("" if fallback is None else "|" + fallback) + "}"


valid_body = st.lists(brace_free_text | placeholder_text(), max_size=8).map("".join)


@given(brace_free_text)
def test_text_without_braces_renders_to_itself(body: str) -> None:
    template = parse_template(body)
    assert template.placeholders == ()
    assert template.render({"first_name": "Ada"}, {"color": "red"}) == body


@given(
    valid_body,
    st.dictionaries(st.sampled_from(CONTACT_FIELDS), st.none() | value_text),
    st.dictionaries(attribute_key, value_text),
)
def test_rendered_message_never_contains_a_brace(
    body: str, values: dict[str, str | None], attributes: dict[str, str]
) -> None:
    rendered = parse_template(body).render(values, attributes)
    assert "{" not in rendered
    assert "}" not in rendered


@given(st.text(alphabet=st.sampled_from(list("{}| ._xfirst_nameattributes")) | st.characters()))
def test_any_text_parses_or_points_at_the_offending_character(body: str) -> None:
    try:
        template = parse_template(body)
    except TemplateError as error:
        assert 0 <= error.position < len(body)
        assert body[error.position] in "{}|"
        assert f"position {error.position}" in error.message
    else:
        for placeholder in template.placeholders:
            assert body[placeholder.start] == "{"
            assert body[placeholder.end - 1] == "}"

"""Privacy masks hide customers' identities and subjects, and leave no digits or addresses behind."""

from shiftboard.privacy import mask_customer, mask_email, mask_phone, mask_subject, mask_text


def test_customer_names_become_initials():
    assert mask_customer("Jane van Dyke") == "J. V. D."
    assert mask_customer("  ") == ""
    assert mask_customer(None) is None


def test_emails_and_phones_as_customers():
    assert mask_customer("jane.doe@example.co.uk") == "j•••@•••.uk"
    assert mask_customer("+44 20 7946 0958") == "••••••••••58"


def test_free_text_keeps_words_but_not_contact_details():
    text = "Call me on 020-7946-0958 or mail jane@example.com, order 12345 please"
    masked = mask_text(text)
    assert "7946" not in masked and "jane@" not in masked
    assert "order 12345 please" in masked  # short numbers (order ids) are not phone numbers
    assert mask_email("a@b.org") == "a•••@•••.org"
    assert mask_phone("555 123 4567") == "••••••••67"


def test_subjects_are_hidden_whole():
    assert mask_subject("Refund for Jane Doe") == "••• subject hidden (19 characters)"
    assert mask_subject("") == ""


def test_a_record_is_masked_field_by_field_and_agents_stay():
    from shiftboard.privacy import mask_record

    row = {"id": "C-1", "customer": "Jane Doe", "subject": "Refund", "assignee": "Agent Smith", "agent": "ag1",
           "name": "Agent One", "comment": "call 020 7946 0958", "queue": "Billing"}  # fmt: skip
    masked = mask_record(row)
    assert masked == {**row, "customer": "J. D.", "subject": "••• subject hidden (6 characters)",
                      "comment": "call •••••••••58"}  # fmt: skip
    assert row["customer"] == "Jane Doe"  # the original row is left alone

//! What the patient is told about paying, in DMs. `when` is the appointment's start as the
//! doctor's clock shows it (`Mon 7 Dec 2026, 09:30`), `zone` that clock's time zone.

pub fn pay(what: &str, when: &str, zone: &str, fee: &str, until: &str) -> String {
    format!(
        "To confirm {what} on {when} ({zone} time), please pay the fee of {fee}. The time is \
         kept for you until {until}."
    )
}

/// The button's title; Instagram cuts longer titles, so the fee alone follows "Pay".
pub fn pay_button(fee: &str) -> String {
    format!("Pay {fee}")
}

pub fn confirmed(when: &str, zone: &str) -> String {
    format!("Payment received, thank you. Your appointment on {when} ({zone} time) is confirmed.")
}

pub fn lapsed(when: &str) -> String {
    format!(
        "The time on {when} was not paid for in time, so it has been freed. Would you like to \
         book again?"
    )
}

pub fn late(when: &str, fee: &str) -> String {
    format!(
        "Your payment of {fee} came after the time on {when} was given to someone else, so it \
         is being refunded in full. Sorry about that. Would you like to pick another time?"
    )
}

pub fn late_for_cancelled(when: &str, fee: &str) -> String {
    format!(
        "Your payment of {fee} came after the booking on {when} was cancelled, so it is being \
         refunded in full. Would you like to book another time?"
    )
}

pub fn late_for_past(when: &str, fee: &str) -> String {
    format!(
        "Your payment of {fee} came after the time on {when} had passed, so it is being \
         refunded in full. Would you like to book another time?"
    )
}

pub fn paid_twice(when: &str, fee: &str) -> String {
    format!(
        "Your appointment on {when} was already paid, so this second payment of {fee} is being \
         refunded in full. The appointment stays confirmed."
    )
}

pub fn wrong_amount(paid: &str, fee: &str) -> String {
    format!(
        "The payment of {paid} was not the fee of {fee}, so it is being refunded in full and the \
         time was not kept. Would you like to book again?"
    )
}

pub fn refunded(fee: &str) -> String {
    format!("Your payment of {fee} has been refunded in full. It can take a few days to reach you.")
}

pub const LINK_FAILED: &str = "Online payment isn't working right now, so I've passed your \
     booking to the clinic's team; they will confirm it with you here.";

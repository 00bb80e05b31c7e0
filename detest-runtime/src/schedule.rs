//! The schedule: every decision an execution made, so it can be replayed exactly.
//!
//! A decision is recorded only where there was a real choice: a scheduling point with two or more
//! runnable tasks (which one ran), and every value drawn from [`crate::rand`]. Points with a single
//! runnable task are not recorded, which keeps schedules short and lets a replay tolerate code
//! changes that do not alter the choices.
//!
//! The printable form is `detest1:` followed by URL-safe base64 of a varint stream. Consecutive
//! choices of the same task are run-length encoded, so a typical failing schedule of a few hundred
//! steps prints in a few dozen characters.

use base64::Engine;
use std::fmt;

const PREFIX: &str = "detest1:";

/// The longest encoded schedule a report shows or a printed command passes as an argument.
/// Linux refuses a single argument or environment string over 128 KiB (`Argument list too
/// long`), and a livelock's schedule runs to megabytes; the seed replays the same execution, so
/// above this bound reports show [`shown_schedule`] and print the seed command instead.
pub const SCHEDULE_SHOWN_MAX: usize = 16 * 1024;

/// Whether an encoded schedule is short enough to show whole and pass as an argument.
pub fn schedule_fits(encoded: &str) -> bool {
    encoded.len() <= SCHEDULE_SHOWN_MAX
}

/// An encoded schedule as reports show it: whole when it [fits](schedule_fits), otherwise its
/// first characters and its length.
///
/// ```
/// let long = format!("detest1:{}", "A".repeat(20_000));
/// assert_eq!(detest::shown_schedule("detest1:AAIE"), "detest1:AAIE");
/// assert_eq!(
///     detest::shown_schedule(&long),
///     "detest1:AAAAAAAAAAAA… (20,008 chars; replay by seed)"
/// );
/// ```
pub fn shown_schedule(encoded: &str) -> std::borrow::Cow<'_, str> {
    if schedule_fits(encoded) {
        return encoded.into();
    }
    let head: String = encoded.chars().take(PREFIX.len() + 12).collect();
    format!(
        "{head}… ({} chars; replay by seed)",
        thousands(encoded.len())
    )
    .into()
}

/// `1333352` as `1,333,352`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One recorded decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// At `count` consecutive choice points, task `task` was chosen.
    Run { task: u32, count: u32 },
    /// A value drawn from the execution's random source.
    Random(u64),
}

/// A recorded schedule: the sequence of decisions of one execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule {
    decisions: Vec<Decision>,
}

/// Why a schedule string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleParseError(pub String);

impl fmt::Display for ScheduleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid schedule: {}", self.0)
    }
}

impl std::error::Error for ScheduleParseError {}

impl Schedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn from_vec(mut decisions: Vec<Decision>) -> Self {
        decisions.clear();
        Schedule { decisions }
    }

    pub(crate) fn into_vec(self) -> Vec<Decision> {
        self.decisions
    }

    /// The decisions, run-length encoded.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Records that `task` was chosen at a choice point.
    #[inline]
    pub fn push_choice(&mut self, task: u32) {
        if let Some(Decision::Run { task: t, count }) = self.decisions.last_mut() {
            if *t == task && *count < u32::MAX {
                *count += 1;
                return;
            }
        }
        self.decisions.push(Decision::Run { task, count: 1 });
    }

    /// Records a random draw.
    #[inline]
    pub fn push_random(&mut self, value: u64) {
        self.decisions.push(Decision::Random(value));
    }

    /// The task chosen at every choice point, in order (random draws omitted).
    pub fn choices(&self) -> impl Iterator<Item = u32> + '_ {
        self.decisions.iter().flat_map(|d| match *d {
            Decision::Run { task, count } => std::iter::repeat_n(task, count as usize),
            Decision::Random(_) => std::iter::repeat_n(0, 0),
        })
    }

    /// Number of choice points recorded.
    pub fn choice_count(&self) -> usize {
        self.decisions
            .iter()
            .map(|d| match d {
                Decision::Run { count, .. } => *count as usize,
                Decision::Random(_) => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }

    /// Encodes to the printable form (`detest1:...`).
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(self.decisions.len() * 3);
        for d in &self.decisions {
            match *d {
                Decision::Run { task, count } => {
                    // tag bit 0: a run; bit 1 set when the count is not 1 (then the count follows).
                    let head = (u64::from(task) << 2) | if count == 1 { 0 } else { 2 };
                    write_varint(&mut bytes, head);
                    if count != 1 {
                        write_varint(&mut bytes, u64::from(count));
                    }
                }
                Decision::Random(v) => {
                    write_varint(&mut bytes, 1);
                    write_varint(&mut bytes, v);
                }
            }
        }
        let mut out = String::from(PREFIX);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&bytes, &mut out);
        out
    }

    /// Decodes the printable form.
    pub fn decode(text: &str) -> Result<Self, ScheduleParseError> {
        let text = text.trim();
        let body = text.strip_prefix(PREFIX).ok_or_else(|| {
            if let Some((version, _)) = text.split_once(':') {
                ScheduleParseError(format!(
                    "unsupported schedule format `{version}` (this detest reads `{}`)",
                    PREFIX.trim_end_matches(':')
                ))
            } else {
                ScheduleParseError(format!("a schedule starts with `{PREFIX}`"))
            }
        })?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| ScheduleParseError(format!("bad base64: {e}")))?;
        let mut pos = 0;
        let mut schedule = Schedule::new();
        while pos < bytes.len() {
            let head = read_varint(&bytes, &mut pos)?;
            if head & 1 == 1 {
                if head != 1 {
                    return Err(ScheduleParseError(format!("unknown decision tag {head}")));
                }
                schedule
                    .decisions
                    .push(Decision::Random(read_varint(&bytes, &mut pos)?));
            } else {
                let task = u32::try_from(head >> 2)
                    .map_err(|_| ScheduleParseError("task id out of range".into()))?;
                let count = if head & 2 != 0 {
                    u32::try_from(read_varint(&bytes, &mut pos)?)
                        .map_err(|_| ScheduleParseError("run length out of range".into()))?
                } else {
                    1
                };
                schedule.decisions.push(Decision::Run { task, count });
            }
        }
        Ok(schedule)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::decode(s)
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, ScheduleParseError> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let byte = *bytes
            .get(*pos)
            .ok_or_else(|| ScheduleParseError("truncated".into()))?;
        *pos += 1;
        if shift >= 64 {
            return Err(ScheduleParseError("varint overflow".into()));
        }
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let mut s = Schedule::new();
        for t in [0, 0, 0, 1, 2, 2, 0] {
            s.push_choice(t);
        }
        s.push_random(u64::MAX);
        s.push_choice(300);
        let text = s.encode();
        assert!(text.starts_with("detest1:"));
        assert_eq!(Schedule::decode(&text).unwrap(), s);
        assert_eq!(s.choice_count(), 8);
        assert_eq!(
            s.choices().collect::<Vec<_>>(),
            vec![0, 0, 0, 1, 2, 2, 0, 300]
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(Schedule::decode("detest9:AAAA")
            .unwrap_err()
            .0
            .contains("unsupported"));
        assert!(Schedule::decode("nonsense").is_err());
        assert!(Schedule::decode("detest1:!!").is_err());
        assert!(Schedule::decode("detest1:gA").is_err()); // truncated varint
    }
}

//! Container names: validation and docker-style random names (`adjective_surname`).

use crate::error::{EngineError, Result};

const ADJECTIVES: &[&str] = &[
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome",
    "beautiful", "blissful", "bold", "boring", "brave", "busy", "charming", "clever",
    "compassionate", "competent", "condescending", "confident", "cool", "cranky", "crazy",
    "dazzling", "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic",
    "elated", "elegant", "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant",
    "focused", "friendly", "frosty", "funny", "gallant", "gifted", "goofy", "gracious",
    "great", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible", "inspiring",
    "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving",
    "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice",
    "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive",
    "practical", "priceless", "quirky", "quizzical", "recursing", "relaxed", "reverent",
    "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange", "stupefied",
    "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
    "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous",
    "zen",
];

const SURNAMES: &[&str] = &[
    "albattani", "allen", "almeida", "agnesi", "archimedes", "ardinghelli", "aryabhata",
    "austin", "babbage", "banach", "bardeen", "bartik", "bassi", "bell", "benz", "bhabha",
    "bhaskara", "blackwell", "bohr", "booth", "borg", "bose", "boyd", "brahmagupta",
    "brattain", "brown", "carson", "cerf", "chandrasekhar", "chaplygin", "chatelet",
    "chatterjee", "chebyshev", "cohen", "colden", "cori", "cray", "curie", "darwin",
    "davinci", "dijkstra", "dubinsky", "easley", "edison", "einstein", "elion", "engelbart",
    "euclid", "euler", "faraday", "feistel", "fermat", "fermi", "feynman", "franklin",
    "gagarin", "galileo", "gates", "gauss", "germain", "goldberg", "goldstine", "goldwasser",
    "golick", "goodall", "hamilton", "haslett", "hawking", "heisenberg", "hermann",
    "hodgkin", "hofstadter", "hopper", "hugle", "hypatia", "jackson", "jang", "jennings",
    "jepsen", "johnson", "joliot", "jones", "kalam", "kapitsa", "kare", "keldysh", "keller",
    "kepler", "khorana", "kilby", "kirch", "knuth", "kowalevski", "lalande", "lamarr",
    "lamport", "leakey", "leavitt", "lewin", "lichterman", "liskov", "lovelace", "lumiere",
    "mahavira", "margulis", "matsumoto", "maxwell", "mayer", "mccarthy", "mcclintock",
    "mclean", "mcnulty", "meitner", "mendel", "mendeleev", "merkle", "mestorf", "mirzakhani",
    "morse", "murdock", "napier", "nash", "neumann", "newton", "nightingale", "nobel",
    "noether", "northcutt", "noyce", "panini", "pare", "pascal", "pasteur", "payne",
    "perlman", "pike", "poincare", "poitras", "ptolemy", "raman", "ramanujan", "ride",
    "ritchie", "robinson", "roentgen", "rosalind", "rubin", "saha", "sammet", "sanderson",
    "shannon", "shaw", "shirley", "shockley", "sinoussi", "snyder", "solomon", "spence",
    "stonebraker", "sutherland", "swanson", "swartz", "swirles", "tesla", "thompson",
    "torvalds", "turing", "varahamihira", "villani", "visvesvaraya", "volhard", "wescoff",
    "wiles", "williams", "wilson", "wing", "wozniak", "wright", "wu", "yalow", "yonath",
];

/// A random `adjective_surname`, as dockerd's namesgenerator makes.
/// (`boring_wozniak` is never produced: Steve Wozniak is not boring.)
pub fn random_name(random: u64) -> String {
    let adj = ADJECTIVES[(random % ADJECTIVES.len() as u64) as usize];
    let sur = SURNAMES[((random >> 32) % SURNAMES.len() as u64) as usize];
    if adj == "boring" && sur == "wozniak" {
        return random_name(random.wrapping_add(1));
    }
    format!("{adj}_{sur}")
}

/// Validates a user-given name (an optional leading `/` is allowed) and returns it
/// without the slash. dockerd: `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`.
pub fn validate(name: &str) -> Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {
            bare.len() >= 2
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        }
        _ => false,
    };
    if ok {
        Ok(bare.to_string())
    } else {
        Err(EngineError::Invalid(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(validate("/web-1").unwrap(), "web-1");
        assert!(validate("a").is_err());
        assert!(validate("-x").is_err());
        assert!(validate("a b").is_err());
        let n = random_name(12345);
        assert!(n.contains('_'));
        assert!(validate(&n).is_ok());
    }
}

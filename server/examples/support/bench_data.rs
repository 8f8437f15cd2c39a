//! Generated notes for the benchmarks (`bench_office`, `seed_notes`): Vietnamese words, a task,
//! an activity type, participants, 0–4 petitions and one photo reference, from a seeded RNG.

use rand::Rng;
use shared::schema::{Note, Participants, Petition};
use shared::vocab::{ActivityType, PetitionStatus};

const WORDS: &[&str] = &[
    "tuyên truyền",
    "dân vận khéo",
    "hộ gia đình",
    "bon",
    "thôn",
    "đường giao thông",
    "nước sạch",
    "cà phê",
    "hội nghị",
    "vận động",
    "an ninh",
    "môi trường",
    "người cao tuổi",
    "học sinh",
];

pub fn note(rng: &mut impl Rng, id: String, date: String, tasks: usize) -> Note {
    let text = |rng: &mut dyn rand::RngCore, n: usize| {
        (0..n)
            .map(|_| WORDS[rng.random_range(0..WORDS.len())])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let total = rng.random_range(5..80);
    Note {
        id,
        activity_date: date,
        title: text(rng, 4),
        content: text(rng, 30),
        results: text(rng, 10),
        task_ids: vec![format!("t-{}", rng.random_range(0..tasks))],
        activity_type: Some(
            ActivityType::ALL[rng.random_range(0..ActivityType::ALL.len())].clone(),
        ),
        participants: Participants {
            total,
            women: total / 2,
            ethnic_minority: total / 4,
            religious: total / 8,
        },
        petitions: (0..rng.random_range(0..5))
            .map(|_| Petition {
                text: text(rng, 8),
                status: PetitionStatus::ALL[rng.random_range(0..4)].clone(),
            })
            .collect(),
        photos: vec![format!("{:064x}", rng.random::<u128>())],
        author: "bench".into(),
        created_at: 1_795_000_000_000,
        ..Note::default()
    }
}

//! `Slab`: state per key (a customer or terminal id) in a vector, with a slot number that stays the same for
//! as long as the key lives. Other state can refer to a key by its 4-byte slot instead of a copy
//! of the id; a slot is reused only after the key is dropped by a sweep.

use super::hash::IdMap;
use crate::id::Id;

#[derive(Debug)]
pub struct Slab<T> {
    index: IdMap<u32>,
    slots: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            index: IdMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// The slot of `id`, created with `make` when new.
    pub fn slot(&mut self, id: &Id, make: impl FnOnce() -> T) -> u32 {
        if let Some(&slot) = self.index.get(id) {
            return slot;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(make());
                slot
            }
            None => {
                self.slots.push(Some(make()));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 live keys")
            }
        };
        self.index.insert(id.clone(), slot);
        slot
    }

    pub fn get(&self, slot: u32) -> Option<&T> {
        self.slots.get(slot as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// The value of `id`, created with `make` when new: one hash lookup, no copy of the id
    /// unless it is new.
    pub fn entry(&mut self, id: &Id, make: impl FnOnce() -> T) -> &mut T {
        let slot = self.slot(id, make);
        self.slots[slot as usize]
            .as_mut()
            .expect("a slot just handed out is live")
    }

    /// Keeps the keys for which `keep` says so; frees the others' slots.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        let slots = &mut self.slots;
        let free = &mut self.free;
        self.index.retain(|_, &mut slot| {
            let cell = &mut slots[slot as usize];
            let kept = cell.as_mut().is_some_and(&mut keep);
            if !kept {
                *cell = None;
                free.push(slot);
            }
            kept
        });
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The live values.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_and_reused_after_a_sweep() {
        let mut s = Slab::default();
        let a = s.slot(&Id::from("a"), || 1);
        let b = s.slot(&Id::from("b"), || 2);
        assert_eq!(s.slot(&Id::from("a"), || 9), a);
        s.retain(|v| *v != 1);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&2));
        let c = s.slot(&Id::from("c"), || 3);
        assert_eq!(c, a, "freed slot reused");
        assert_eq!(s.len(), 2);
    }
}

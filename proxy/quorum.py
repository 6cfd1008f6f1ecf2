"""The cache's quorum, sans-IO: leader election and topology commits, driven by an injected clock.

Every proxy of a cache runs one `Quorum` (a two-node cache adds the controller as a voting witness that
never stands as a candidate). The rules are Raft's election rules, which are Redis Cluster's failover
vote rules in another vocabulary:

- terms; one vote per term; a member that sees a higher term adopts it and becomes a follower;
- a follower that hears no heartbeat for a randomized election timeout stands as candidate (term+1,
  votes for itself, asks every member); a majority (N/2+1) of votes makes it leader;
- a voter refuses a candidate whose topology epoch is older than its own (so the leader always holds the
  newest committed topology), and ignores candidates while it hears from a live leader (a member coming
  back from a partition does not depose a working leader);
- the leader sends heartbeats; a leader that has not heard a majority of acks within an election timeout
  steps down (a leader cut off with a minority stops leading);
- only the leader changes the topology: it proposes epoch+1, the change is committed once a majority
  (the leader included) has stored it (`Proposal`).

Nothing here touches a socket or a timer: `tick()` returns the messages to send (`Message`), the
`on_*` methods take what arrived and return the answers. The IO layer (proxy/failover.py) carries them
as `AMR.VOTE` and `AMR.HEARTBEAT` on the node endpoints.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Iterable

FOLLOWER = "follower"
CANDIDATE = "candidate"
LEADER = "leader"

#: The member id of the controller when it votes as a witness (two-node caches).
WITNESS = 1000


@dataclass(frozen=True)
class Message:
    kind: str      # "prevote" | "vote" (a candidate asks) | "heartbeat" (the leader asserts)
    to: int
    term: int
    sender: int
    epoch: int
    transfer: bool = False   # a vote the leader asked for: it hands its leadership to the sender


@dataclass
class Proposal:
    """A topology epoch the leader proposed: committed once a majority has stored it."""
    epoch: int
    term: int
    needed: int
    stored: set = field(default_factory=set)

    def ack(self, member: int) -> bool:
        self.stored.add(member)
        return self.committed

    @property
    def committed(self) -> bool:
        return len(self.stored) >= self.needed


class Quorum:
    def __init__(self, me: int, members: Iterable[int], timing, clock: Callable[[], float],
                 epoch: Callable[[], int], rng: random.Random | None = None, can_lead: bool = True):
        self.me = me
        self.members = tuple(sorted(set(members) | {me}))
        self.timing = timing          # a Timing or a dict: *_ms settings
        self.clock = clock
        self.epoch = epoch
        self.rng = rng or random.Random()
        self.can_lead = can_lead
        self.term = 0
        self.voted_for: int | None = None
        self.role = FOLLOWER
        self.leader: int | None = None
        self.votes: set[int] = set()
        self.prevotes: set[int] = set()
        self.prevote_term = 0
        now = clock()
        self.started = now
        self.last_contact = now       # follower: last valid heartbeat; leader: refreshed by majority acks
        self.last_ack: dict[int, float] = {}
        self.seen: set[int] = set()   # members that answered at least once (or led this one)
        # the leader this member followed, and when its last heartbeat came: a new leader judges that
        # member's silence from then (the election showed a majority stopped hearing it), not from its
        # own start, so a lost leader's node fails over after the detection time from its loss
        self.followed: tuple[int, float] | None = None
        self.prior_leader: tuple[int, float] | None = None
        self.leader_since = 0.0
        self.next_heartbeat = 0.0
        self.election_deadline = now + self._election_timeout()
        self.events: list[tuple[str, dict]] = []   # ("elected", {...}), ("stepped-down", {...}) for logs

    # --- settings -------------------------------------------------------------------------------
    def _ms(self, name: str) -> float:
        return self.timing[name] / 1000.0

    def _election_timeout(self) -> float:
        return self.rng.uniform(self._ms("election_timeout_min_ms"), self._ms("election_timeout_max_ms"))

    @property
    def majority(self) -> int:
        return len(self.members) // 2 + 1

    @property
    def others(self) -> tuple[int, ...]:
        return tuple(m for m in self.members if m != self.me)

    def set_members(self, members: Iterable[int], can_lead: bool = True) -> None:
        """A committed topology added or removed members (patching adds new nodes and removes the old
        ones, one change at a time); majorities count over the new set from now on."""
        members = tuple(sorted(set(members) | {self.me}))
        if members == self.members and can_lead == self.can_lead:
            return
        now = self.clock()
        for m in set(members) - set(self.members):
            self.last_ack[m] = now   # a new member just stored the topology that added it
        self.members = members
        self.can_lead = can_lead
        for m in list(self.last_ack):
            if m not in members:
                del self.last_ack[m]
        if not can_lead and self.role != FOLLOWER:
            self._step_down(self.term, "removed from the cluster")

    # --- time -----------------------------------------------------------------------------------
    def tick(self) -> list[Message]:
        """Advance to `clock()`: the heartbeats or vote requests to send now."""
        now = self.clock()
        if self.role == LEADER:
            fresh = self._fresh_acks(now, self._ms("election_timeout_max_ms"))
            if len(fresh) + 1 >= self.majority:
                self.last_contact = now
            elif now - self.leader_since > self._ms("election_timeout_max_ms"):
                self._step_down(self.term, "lost the majority")
                return []
            if now >= self.next_heartbeat:
                self.next_heartbeat = now + self._ms("heartbeat_ms")
                return [Message("heartbeat", m, self.term, self.me, self.epoch()) for m in self.others]
            return []
        if now >= self.election_deadline:
            self.election_deadline = now + self._election_timeout()
            if not self.can_lead:
                return []
            return self._prestand()
        return []

    def next_wakeup(self) -> float:
        """When `tick` has something to do next (clock time)."""
        if self.role == LEADER:
            return self.next_heartbeat
        return self.election_deadline

    def _prestand(self) -> list[Message]:
        """Pre-vote (Raft's PreVote): ask whether a majority would vote for us in term+1 before
        raising the term, so a member coming back from isolation cannot depose a working leader."""
        self.prevotes = {self.me}
        self.prevote_term = self.term + 1
        if len(self.prevotes) >= self.majority:
            return self._stand(self.clock())
        epoch = self.epoch()
        return [Message("prevote", m, self.prevote_term, self.me, epoch) for m in self.others]

    def on_prevote_request(self, term: int, candidate: int, epoch: int) -> tuple[int, bool]:
        """Would I vote for `candidate` in `term`? Changes nothing here."""
        now = self.clock()
        if term <= self.term or epoch < self.epoch():
            return term, False
        if self.role == FOLLOWER and self.leader is not None and self.leader != candidate \
                and now - self.last_contact < self._ms("election_timeout_min_ms"):
            return term, False
        if self.role == LEADER and self.has_quorum(self._ms("election_timeout_min_ms")):
            return term, False
        return term, True

    def on_prevote_reply(self, sender: int, term: int, granted: bool) -> list[Message]:
        if not granted or self.role == LEADER or term != self.prevote_term or self.term + 1 != term:
            return []
        self.prevotes.add(sender)
        if len(self.prevotes) >= self.majority:
            self.prevote_term = 0
            return self._stand(self.clock())
        return []

    def take_over(self, term: int) -> list[Message]:
        """The leader of `term` hands its leadership to this member (Raft's TimeoutNow): stand at once, in
        a term above the leader's, with no pre-vote, asking for votes that a live leader does not block."""
        if not self.can_lead or self.role == LEADER:
            return []
        if term > self.term:
            self.term, self.voted_for = term, None
        return self._stand(self.clock(), transfer=True)

    def _stand(self, now: float, transfer: bool = False) -> list[Message]:
        self.term += 1
        self.role = CANDIDATE
        self.voted_for = self.me
        self.votes = {self.me}
        self.leader = None
        self.election_deadline = now + self._election_timeout()
        if len(self.votes) >= self.majority:   # a single-member quorum
            self._become_leader(now)
            return []
        epoch = self.epoch()
        return [Message("vote", m, self.term, self.me, epoch, transfer) for m in self.others]

    def _become_leader(self, now: float) -> None:
        self.role = LEADER
        self.leader = self.me
        self.leader_since = now
        self.last_contact = now
        self.next_heartbeat = now
        self.last_ack = {}
        self.prior_leader, self.followed = self.followed, None
        self.events.append(("elected", {"term": self.term, "votes": sorted(self.votes)}))

    def _step_down(self, term: int, why: str) -> None:
        if self.role == LEADER:
            self.events.append(("stepped-down", {"term": self.term, "reason": why}))
        if term > self.term:
            self.term = term
            self.voted_for = None
        self.role = FOLLOWER
        if self.leader == self.me:
            self.leader = None
        self.election_deadline = self.clock() + self._election_timeout()

    # --- messages -------------------------------------------------------------------------------
    def on_vote_request(self, term: int, candidate: int, epoch: int, transfer: bool = False) -> tuple[int, bool]:
        """A candidate's request: (my term, granted). `transfer`: the leader asked the candidate to take
        over, so a live leader does not stand in its way."""
        now = self.clock()
        if (not transfer and self.role == FOLLOWER and self.leader is not None and self.leader != candidate
                and now - self.last_contact < self._ms("election_timeout_min_ms")):
            return self.term, False      # a live leader is known: do not let a returning member depose it
        if not transfer and self.role == LEADER and term > self.term and len(self._fresh_acks(
                now, self._ms("election_timeout_min_ms"))) + 1 >= self.majority:
            return self.term, False      # a working leader keeps leading
        if term > self.term:
            self._step_down(term, f"member {candidate} stood in term {term}")
        if term < self.term or epoch < self.epoch():
            return self.term, False
        if self.voted_for in (None, candidate):
            self.voted_for = candidate
            self.election_deadline = now + self._election_timeout()
            return self.term, True
        return self.term, False

    def on_vote_reply(self, sender: int, term: int, granted: bool) -> list[Message]:
        if term > self.term:
            self._step_down(term, "a higher term answered")
            return []
        if self.role != CANDIDATE or term != self.term or not granted:
            return []
        self.votes.add(sender)
        self.seen.add(sender)
        if len(self.votes) >= self.majority:
            now = self.clock()
            self._become_leader(now)
            for m in self.votes - {self.me}:
                self.last_ack[m] = now
            return self.tick()
        return []

    def on_heartbeat(self, term: int, leader: int, epoch: int) -> tuple[int, bool]:
        """The leader's heartbeat: (my term, accepted)."""
        if term < self.term:
            return self.term, False
        if term > self.term or self.role != FOLLOWER:
            self._step_down(term, f"member {leader} leads term {term}")
        self.leader = leader
        self.last_contact = self.clock()
        self.election_deadline = self.last_contact + self._election_timeout()
        self.followed = (leader, self.last_contact)
        self.seen.add(leader)
        return self.term, True

    def on_heartbeat_reply(self, sender: int, term: int, ok: bool) -> None:
        if term > self.term:
            self._step_down(term, "a higher term answered")
            return
        if ok and self.role == LEADER and term == self.term:
            self.last_ack[sender] = self.clock()
            self.seen.add(sender)

    # --- what the leader knows --------------------------------------------------------------------
    def _fresh_acks(self, now: float, window: float) -> list[int]:
        return [m for m, t in self.last_ack.items() if now - t <= window]

    @property
    def is_leader(self) -> bool:
        return self.role == LEADER

    def has_quorum(self, window: float | None = None) -> bool:
        """Whether this member is on the majority side: the leader with a majority of fresh acks, or a
        follower that heard the leader within `window` (seconds; default: the minority write bound)."""
        now = self.clock()
        if window is None:
            window = self._ms("minority_write_stop_ms")
        if self.role == LEADER:
            return len(self._fresh_acks(now, window)) + 1 >= self.majority
        return self.leader is not None and now - self.last_contact <= window

    def unreachable(self, detection: float | None = None) -> set[int]:
        """Members the leader, backed by a majority, has not heard from for the detection time.
        Empty unless this member is a leader with a majority: a minority never declares anyone failed.
        A member not heard from in this leadership is judged from its start, but the leader this member
        followed before it from that leader's last heartbeat; and none in the leadership's first
        `election_timeout_min_ms`, while every live member answers its first heartbeats."""
        if self.role != LEADER:
            return set()
        now = self.clock()
        if detection is None:
            detection = self._ms("node_failure_detection_ms")
        since = self.leader_since
        if now - since < min(detection, self._ms("election_timeout_min_ms")):
            return set()
        prior = self.prior_leader
        silent = set()
        for m in self.others:
            last = self.last_ack.get(m)
            if last is None:
                last = prior[1] if prior is not None and prior[0] == m and prior[1] < since else since
            if now - last > detection:
                silent.add(m)
        if len(self.members) - len(silent) < self.majority:
            return set()
        return silent

    def propose(self, epoch: int) -> Proposal:
        """A topology epoch this leader proposes; ack it with each member that stored it (itself too)."""
        if self.role != LEADER:
            raise RuntimeError("only the leader proposes a topology")
        return Proposal(epoch=epoch, term=self.term, needed=self.majority)

    def status(self) -> dict:
        return {"term": self.term, "role": self.role, "leader": self.leader, "voted_for": self.voted_for,
                "members": list(self.members), "has_quorum": self.has_quorum()}

"""The quorum state machine (proxy/quorum.py) on a simulated network with an injected clock: elections,
split votes, stale candidates, leader loss, minority partitions, the two-node witness, commits."""
from __future__ import annotations

import random

from amr_emulator.topology import TIMING_PROFILES
from proxy.quorum import LEADER, WITNESS, Quorum

TIMING = TIMING_PROFILES["fast"]


class Net:
    """Members on one simulated clock; messages delivered at once unless a side is cut off."""

    def __init__(self, ids, seed=1, epochs=None, witness=None):
        self.now = 0.0
        self.epochs = dict(epochs or {})
        self.cut: set[int] = set()      # members isolated from everyone
        self.groups: list[set] | None = None
        members = list(ids) + ([witness] if witness is not None else [])
        self.q = {}
        for i in members:
            self.epochs.setdefault(i, 1)
            self.q[i] = Quorum(i, members, TIMING, clock=lambda: self.now, epoch=lambda i=i: self.epochs[i],
                               rng=random.Random(seed * 100 + i), can_lead=i != witness)

    def linked(self, a, b) -> bool:
        if a in self.cut or b in self.cut:
            return False
        if self.groups is not None:
            return any(a in g and b in g for g in self.groups)
        return True

    def step(self, dt=0.01):
        self.now += dt
        for i, q in list(self.q.items()):
            if i in self.dead:
                continue
            for m in q.tick():
                self.deliver(m)

    dead: set = set()

    def deliver(self, m):
        if m.to in self.dead or not self.linked(m.sender, m.to):
            return
        target, sender = self.q[m.to], self.q[m.sender]
        if m.kind == "prevote":
            term, granted = target.on_prevote_request(m.term, m.sender, m.epoch)
            for out in sender.on_prevote_reply(m.to, term, granted):
                self.deliver(out)
        elif m.kind == "vote":
            term, granted = target.on_vote_request(m.term, m.sender, m.epoch, m.transfer)
            for out in sender.on_vote_reply(m.to, term, granted):
                self.deliver(out)
        else:
            term, ok = target.on_heartbeat(m.term, m.sender, m.epoch)
            sender.on_heartbeat_reply(m.to, term, ok)

    def run(self, seconds):
        for _ in range(int(seconds / 0.01)):
            self.step()

    def leaders(self, among=None):
        return [i for i, q in self.q.items() if q.role == LEADER and i not in self.dead
                and (among is None or i in among)]


def elected(ids) -> tuple[Net, int]:
    """A network of `ids` that has run for a second: settled, with its leader."""
    net = Net(ids)
    net.dead = set()
    net.run(1.0)
    return net, net.leaders()[0]


def test_one_leader_elected_and_kept():
    net = Net([0, 1, 2])
    net.dead = set()
    net.run(1.0)
    assert len(net.leaders()) == 1
    leader = net.leaders()[0]
    term = net.q[leader].term
    net.run(3.0)
    assert net.leaders() == [leader] and net.q[leader].term == term     # heartbeats keep it
    assert all(q.leader == leader for q in net.q.values())


def test_one_vote_per_term():
    net = Net([0, 1, 2])
    voter = net.q[2]
    assert voter.on_vote_request(1, 0, 1) == (1, True)
    assert voter.on_vote_request(1, 1, 1) == (1, False)       # already voted in term 1
    assert voter.on_vote_request(1, 0, 1) == (1, True)        # the same candidate again
    assert voter.on_vote_request(2, 1, 1) == (2, True)        # a new term, a new vote


def test_split_votes_resolve():
    # many members standing at once: randomized timeouts break the tie within a few rounds
    for seed in range(10):
        net = Net([0, 1, 2, 3], seed=seed)
        net.dead = set()
        for q in net.q.values():
            q.election_deadline = 0.3       # everyone times out together: votes split
        net.run(3.0)
        assert len(net.leaders()) == 1, seed


def test_stale_candidate_refused():
    net = Net([0, 1, 2], epochs={0: 1, 1: 5, 2: 5})
    net.dead = set()
    assert net.q[1].on_vote_request(1, 0, 1) == (1, False)
    net.q[0].election_deadline = 0.0          # node 0 (old topology) stands first
    for q in (net.q[1], net.q[2]):
        q.election_deadline = 0.05
    net.run(2.0)
    assert net.leaders() and net.leaders()[0] != 0     # only a member with the newest epoch leads


def test_leader_loss_elects_another():
    net, old = elected([0, 1, 2])
    net.dead = {old}
    net.run(1.5)
    new = net.leaders()
    assert len(new) == 1 and new[0] != old and net.q[new[0]].term > net.q[old].term
    # the old leader comes back: it sees the higher term and follows
    net.dead = set()
    net.run(1.0)
    assert net.leaders() == new
    assert net.q[old].leader == new[0]


def test_a_lost_leader_is_declared_failed_the_detection_time_after_its_loss():
    # not the detection time after the new leader's election: its successor judges it from the last
    # heartbeat it had (AMR's 10-15 s for a lost node, not election + detection)
    net, old = elected([0, 1, 2])
    lost_at = net.now
    net.dead = {old}
    while not net.leaders([m for m in range(3) if m != old]):
        net.step()
    new = net.q[net.leaders()[-1]]
    assert new.me != old and new.unreachable() == set()     # the first heartbeats' answers awaited
    detection = TIMING["node_failure_detection_ms"] / 1000
    while new.unreachable() != {old}:
        net.step()
        assert net.now < lost_at + detection + 0.15
    assert net.now - new.leader_since < detection           # sooner than a detection time of its own
    follower = next(m for m in range(3) if m not in (old, new.me))
    assert follower not in new.unreachable()                # a live member is judged by its answers


def test_a_member_the_new_leader_never_followed_is_judged_from_the_election():
    net, old = elected([0, 1, 2, 3, 4])
    others = [m for m in range(5) if m != old]
    net.dead = {old, others[0]}      # the leader and a follower lost together
    while not net.leaders(others[1:]):
        net.step()
    new = net.q[net.leaders(others[1:])[0]]
    detection = TIMING["node_failure_detection_ms"] / 1000
    while old not in new.unreachable():
        net.step()
    assert others[0] not in new.unreachable()    # only the leader it followed is judged from before
    net.run(new.leader_since + detection + 0.05 - net.now)
    assert new.unreachable() == {old, others[0]}


def test_minority_partition_cannot_lead_or_declare_failures():
    net, leader = elected([0, 1, 2, 3, 4])
    others = [m for m in range(5) if m != leader]
    minority, majority = {leader, others[0]}, set(others[1:])
    net.groups = [minority, majority]
    net.run(3.0)
    # the old leader stepped down; the majority elected its own
    assert net.leaders(minority) == []
    assert len(net.leaders(majority)) == 1
    new = net.q[net.leaders(majority)[0]]
    assert not net.q[leader].has_quorum() and new.has_quorum()
    # the majority's leader declares the minority unreachable; nobody on the minority side does
    assert new.unreachable() == minority
    assert all(net.q[m].unreachable() == set() for m in minority)
    net.groups = None
    net.run(1.0)
    assert net.leaders() == [new.me]
    assert new.unreachable() == set()


def test_short_silence_is_not_a_failure():
    net = Net([0, 1, 2])
    net.dead = set()
    net.run(1.0)
    leader = net.q[net.leaders()[0]]
    other = next(m for m in range(3) if m != leader.me)
    net.cut = {other}
    net.run(0.5)          # below node_failure_detection_ms (1 s)
    assert leader.unreachable() == set()
    net.run(0.7)
    assert leader.unreachable() == {other}
    net.cut = set()
    net.run(0.3)
    assert leader.unreachable() == set() and net.leaders() == [leader.me]


def test_two_nodes_with_witness():
    net = Net([0, 1], witness=WITNESS)
    net.dead = set()
    net.run(1.0)
    assert len(net.leaders()) == 1 and WITNESS not in net.leaders()
    first = net.leaders()[0]
    survivor = 1 - first
    net.dead = {first}
    net.run(1.5)
    assert net.leaders() == [survivor]                # the witness's vote makes a majority of two
    assert net.q[survivor].has_quorum()
    net.run(1.0)
    assert net.q[survivor].unreachable() == {first}


def test_commit_needs_majority():
    net = Net([0, 1, 2])
    net.dead = set()
    net.run(1.0)
    leader = net.q[net.leaders()[0]]
    p = leader.propose(2)
    assert not p.ack(leader.me)
    assert p.ack(next(m for m in range(3) if m != leader.me))
    try:
        net.q[next(m for m in range(3) if m != leader.me)].propose(2)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a follower proposed")


def test_single_member_leads_alone():
    net = Net([0])
    net.dead = set()
    net.run(1.0)
    assert net.leaders() == [0] and net.q[0].has_quorum()


def test_members_added_then_leadership_transferred_then_old_members_removed():
    """Patching's quorum changes: three new members join (the leader keeps leading: they count as heard),
    the leader hands over to a new one although it is alive and well, then the old ones leave."""
    net = Net([0, 1, 2, 3, 4, 5])
    net.dead = {3, 4, 5}          # not started yet
    for i in (0, 1, 2):
        net.q[i].set_members([0, 1, 2])
    net.run(1.0)
    [old_leader] = net.leaders()
    net.dead = set()
    for i in range(6):            # the topology that adds them is committed
        net.q[i].set_members([0, 1, 2, 3, 4, 5])
    net.run(2.0)
    assert net.leaders() == [old_leader]
    term = net.q[old_leader].term
    for m in net.q[3].take_over(term):
        net.deliver(m)
    assert net.leaders() == [3] and net.q[3].term == term + 1
    net.run(2.0)
    assert net.leaders() == [3]
    assert all(net.q[i].leader == 3 for i in range(6))
    for gone in (0, 1, 2):        # removed one by one; a removed member can no longer lead
        for i in range(6):
            if i == gone:
                net.q[i].set_members([i], can_lead=False)
            else:
                net.q[i].set_members([m for m in net.q[i].members if m != gone])
        net.dead = net.dead | {gone}
        net.run(2.0)
        assert net.leaders() == [3]
    assert net.q[3].members == (3, 4, 5) and net.q[3].majority == 2


def test_a_transfer_vote_is_granted_despite_a_live_leader_but_a_plain_one_is_not():
    net = Net([0, 1, 2])
    net.dead = set()
    net.run(1.0)
    [leader] = net.leaders()
    other = next(i for i in range(3) if i != leader)
    voter = next(i for i in range(3) if i not in (leader, other))
    term = net.q[voter].term
    assert net.q[voter].on_vote_request(term + 1, other, 1) == (term, False)
    assert net.q[voter].on_vote_request(term + 1, other, 1, transfer=True) == (term + 1, True)

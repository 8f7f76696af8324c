package io.github.pulsaroutbox.tailing;

import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.TrackingToken;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The tailing mode's sequence ids: {@link StreamCursor} (where a batch is in the stream) and {@link TopicSequence}. */
class TopicSequenceTest {

    private static TrackingToken at(long position) {
        return new GlobalSequenceTrackingToken(position);
    }

    private static long next(StreamCursor cursor, TopicSequence sequence, TrackingToken token) {
        cursor.advance(token);
        return sequence.idFor(cursor, false);
    }

    @Nested
    class InStreamOrder {

        @Test
        void eventsGetTheirPositionTimesTheSpreadAndSiblingsTheFollowingIds() {
            StreamCursor cursor = new StreamCursor(9);
            TopicSequence sequence = new TopicSequence(-1);
            assertThat(next(cursor, sequence, at(10))).isEqualTo(10 * TopicSequence.SPREAD);
            TrackingToken split = at(11); // an upcaster split this entry in two
            assertThat(next(cursor, sequence, split)).isEqualTo(11 * TopicSequence.SPREAD);
            assertThat(next(cursor, sequence, split)).isEqualTo(11 * TopicSequence.SPREAD + 1);
            assertThat(cursor.late()).isFalse();
        }

        @Test
        void aBatchSentAgainAfterACrashCarriesTheIdsItHadSoTheBrokerDropsTheCopies() {
            TopicSequence restarted = new TopicSequence(11 * TopicSequence.SPREAD + 1); // all of it was stored
            StreamCursor cursor = new StreamCursor(9);
            assertThat(next(cursor, restarted, at(10))).isEqualTo(10 * TopicSequence.SPREAD);
            assertThat(next(cursor, restarted, at(11))).isEqualTo(11 * TopicSequence.SPREAD);
            assertThat(next(cursor, restarted, at(11))).isEqualTo(11 * TopicSequence.SPREAD + 1);
        }
    }

    @Nested
    class LateCommits {

        @Test
        void aLateEventGetsAnIdAboveEverythingStoredOrUsed() {
            StreamCursor cursor = new StreamCursor(11);
            TopicSequence sequence = new TopicSequence(11 * TopicSequence.SPREAD);
            long late = next(cursor, sequence, at(5));
            assertThat(cursor.late()).isTrue();
            assertThat(late).isEqualTo(11 * TopicSequence.SPREAD + 1);
            assertThat(next(cursor, sequence, at(12))).isEqualTo(12 * TopicSequence.SPREAD);
        }

        /**
         * A late entry split in two by an upcaster: the first event was stored with a fresh id, the process died before
         * the second was sent. Replayed by the next process, the second event must not get an id derived from the
         * batch's position: that id ({@code 11 × 1024 + 1}) is at or below what the broker stored, so the broker would
         * drop it as a copy, acknowledge it, and the token would move on without it ever being stored.
         */
        @Test
        void everyEventUpcastFromALateEntryIsLateAndNeverTakenForACopy() {
            long storedBeforeTheCrash = 11 * TopicSequence.SPREAD + 1; // the first sibling's fresh id
            TopicSequence restarted = new TopicSequence(storedBeforeTheCrash);
            StreamCursor cursor = new StreamCursor(11); // the token: 11, with a gap at 5
            TrackingToken lateEntry = at(5);

            long first = next(cursor, restarted, lateEntry);
            long second = next(cursor, restarted, lateEntry);

            assertThat(cursor.sibling()).isEqualTo(1);
            assertThat(cursor.late()).isTrue();
            assertThat(first).isGreaterThan(storedBeforeTheCrash); // sent again: at least once for late commits
            assertThat(second).isGreaterThan(first);
        }

        @Test
        void anEventWithoutATokenIsLate() {
            StreamCursor cursor = new StreamCursor(3);
            cursor.advance(null);
            assertThat(cursor.late()).isTrue();
        }

        @Test
        void anEventRefusedOutrightBeforeGetsAFreshIdInStreamOrderToo() {
            StreamCursor cursor = new StreamCursor(9);
            TopicSequence sequence = new TopicSequence(10 * TopicSequence.SPREAD);
            cursor.advance(at(10));
            assertThat(sequence.idFor(cursor, true)).isEqualTo(10 * TopicSequence.SPREAD + 1);
        }
    }
}

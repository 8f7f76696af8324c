package io.github.pulsaroutbox.relay;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Broker sequence ids per owned segment: reserved in blocks in the segment's token before they are given. */
class SequenceReservationsTest {

    private final SequenceReservations reservations = new SequenceReservations();

    @Nested
    class Reserving {

        @Test
        void claimedSegmentReservesABlockAboveItsTokensReservation() {
            reservations.start(0, 100);

            Map<Integer, Long> writes = reservations.toReserve(Map.of(0, 5));

            assertThat(writes).containsExactly(Map.entry(0, 105 + SequenceReservations.BLOCK));
        }

        @Test
        void nothingToReserveWhileTheReservationSuffices() {
            reserve(0, 100, 1);

            // ids 101 .. 101 + BLOCK are reserved
            assertThat(reservations.toReserve(Map.of(0, (int) SequenceReservations.BLOCK + 1))).isEmpty();
            assertThat(reservations.toReserve(Map.of(0, (int) SequenceReservations.BLOCK + 2)))
                    .containsExactly(Map.entry(0, 102 + 2 * SequenceReservations.BLOCK));
        }

        @Test
        void reservesOnlyOwnedSegmentsInAscendingOrder() {
            reservations.start(7, 0);
            reservations.start(2, 0);
            reservations.start(4, 0);

            Map<Integer, Long> writes = reservations.toReserve(Map.of(7, 1, 4, 1, 2, 1, 9, 1));

            assertThat(writes.keySet()).containsExactly(2, 4, 7);
        }

        @Test
        void reservationOfASegmentNoLongerOwnedIsIgnored() {
            reservations.start(0, 0);
            Map<Integer, Long> writes = reservations.toReserve(Map.of(0, 1));
            reservations.forget(0);

            reservations.reserved(writes);

            assertThatThrownBy(() -> reservations.next(0)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Nested
    class GivingIds {

        @Test
        void givesIncreasingIdsAboveTheTokensReservation() {
            reserve(3, 100, 3);

            assertThat(new long[] {reservations.next(3), reservations.next(3), reservations.next(3)})
                    .containsExactly(101, 102, 103);
        }

        @Test
        void refusesAnIdNotReserved() {
            reservations.start(0, 100);

            assertThatThrownBy(() -> reservations.next(0)).isInstanceOf(IllegalStateException.class)
                                                          .hasMessageContaining("segment 0");
        }

        @Test
        void refusesIdsOfASegmentNotOwned() {
            assertThatThrownBy(() -> reservations.next(1)).isInstanceOf(IllegalStateException.class);

            reserve(1, 0, 1);
            reservations.forget(1);
            assertThatThrownBy(() -> reservations.next(1)).isInstanceOf(IllegalStateException.class);
        }

        @Test
        void refusesOnceTheReservationIsUsedUp() {
            reservations.start(0, 0);
            reservations.reserved(Map.of(0, 2L));

            reservations.next(0);
            reservations.next(0);

            assertThatThrownBy(() -> reservations.next(0)).isInstanceOf(IllegalStateException.class);
            assertThat(reservations.toReserve(Map.of(0, 1))).containsKey(0);
        }

        @Test
        void takeoverContinuesAboveEverythingTheEarlierOwnerReserved() {
            reserve(0, 0, 1);
            long before = reservations.next(0);
            Map<Integer, Long> earlierReservation =
                    reservations.toReserve(Map.of(0, (int) SequenceReservations.BLOCK + 1));
            reservations.reserved(earlierReservation);

            SequenceReservations newOwner = new SequenceReservations();
            newOwner.start(0, earlierReservation.get(0));
            newOwner.reserved(newOwner.toReserve(Map.of(0, 1)));

            assertThat(newOwner.next(0)).isGreaterThan(earlierReservation.get(0)).isGreaterThan(before);
        }
    }

    @Nested
    class Raising {

        @Test
        void laterIdsGoAboveWhatTheBrokerStored() {
            reserve(0, 0, 1);

            reservations.raise(0, 500);

            assertThat(reservations.next(0)).isEqualTo(501);
            assertThat(reservations.next(0)).isEqualTo(502);
        }

        @Test
        void raisingAboveTheReservationRefusesIdsUntilReservedAgain() {
            reserve(0, 0, 1);

            reservations.raise(0, 2 * SequenceReservations.BLOCK);

            assertThatThrownBy(() -> reservations.next(0)).isInstanceOf(IllegalStateException.class);
            Map<Integer, Long> writes = reservations.toReserve(Map.of(0, 1));
            assertThat(writes).containsExactly(Map.entry(0, 3 * SequenceReservations.BLOCK + 1));
            reservations.reserved(writes);
            assertThat(reservations.next(0)).isEqualTo(2 * SequenceReservations.BLOCK + 1);
        }

        @Test
        void neverLowersTheNextId() {
            reserve(0, 100, 10);
            reservations.next(0);
            reservations.next(0);

            reservations.raise(0, 5);
            reservations.raise(0, 101);

            assertThat(reservations.next(0)).isEqualTo(103);
        }

        @Test
        void raisingASegmentNotOwnedChangesNothing() {
            reservations.raise(4, 1_000);
            reserve(4, 0, 1);

            assertThat(reservations.next(4)).isEqualTo(1);
        }
    }

    /** Claims the segment with its token at {@code inToken} and writes what {@code count} ids need. */
    private void reserve(int segment, long inToken, int count) {
        reservations.start(segment, inToken);
        reservations.reserved(reservations.toReserve(Map.of(segment, count)));
    }
}

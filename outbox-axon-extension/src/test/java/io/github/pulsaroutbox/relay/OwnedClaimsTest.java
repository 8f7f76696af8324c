package io.github.pulsaroutbox.relay;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The owned claims and their local validity, on a fake monotonic clock. */
class OwnedClaimsTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final OwnedClaims owned = new OwnedClaims(now::get);

    @Nested
    class Validity {

        @Test
        void anOwnedSegmentIsValidUntilItsValidityPasses() {
            owned.add(3, 1_500);

            assertThat(owned.isValid(3)).isTrue();
            assertThat(owned.lapsed(3)).isFalse();
            assertThat(owned.validUntilNanos(3)).isEqualTo(1_500);
            assertThat(owned.valid()).containsExactly(3);

            now.set(1_500);
            assertThat(owned.isValid(3)).isFalse();
            assertThat(owned.lapsed(3)).isTrue();
            assertThat(owned.valid()).isEmpty();
        }

        @Test
        void aSegmentNotOwnedIsNeitherValidNorLapsedAndValidUntilNow() {
            assertThat(owned.isValid(1)).isFalse();
            assertThat(owned.lapsed(1)).isFalse();
            assertThat(owned.validUntilNanos(1)).isEqualTo(1_000);
        }

        @Test
        void aRoundSetsEveryValidityAKeepOnlyMovesItLater() {
            owned.add(0, 2_000);
            owned.add(1, 2_000);

            owned.extend(List.of(0, 1, 7), 1_800); // earlier: ignored, and 7 is not owned
            assertThat(owned.validUntilNanos(0)).isEqualTo(2_000);
            assertThat(owned.owns(7)).isFalse();

            owned.extend(List.of(0), 2_500);
            assertThat(owned.validUntilNanos(0)).isEqualTo(2_500);
            assertThat(owned.validUntilNanos(1)).isEqualTo(2_000);

            owned.validUntil(1_900); // a round sets it, earlier or not
            assertThat(owned.validUntilNanos(0)).isEqualTo(1_900);
            assertThat(owned.validUntilNanos(1)).isEqualTo(1_900);
        }
    }

    @Nested
    class Releasing {

        @Test
        void theSurplusAboveTheShareIsTheHighestSegmentsAndStopsBeingValid() {
            for (int segment = 0; segment < 5; segment++) {
                owned.add(segment, 5_000);
            }

            assertThat(owned.surplus(3)).containsExactly(3, 4);

            assertThat(owned.isReleasing(4)).isTrue();
            assertThat(owned.isValid(4)).isFalse();
            assertThat(owned.lapsed(4)).isFalse();
            assertThat(owned.owns(4)).isTrue();
            assertThat(owned.valid()).containsExactlyInAnyOrder(0, 1, 2);
        }

        @Test
        void segmentsMarkedBeforeStayMarkedWhenTheShareGrows() {
            for (int segment = 0; segment < 4; segment++) {
                owned.add(segment, 5_000);
            }
            owned.surplus(2);

            assertThat(owned.surplus(4)).containsExactly(2, 3);
        }

        @Test
        void removingASegmentEndsItsReleaseAndSaysWhetherItWasOwned() {
            owned.add(0, 5_000);
            owned.add(1, 5_000);
            owned.surplus(1);

            assertThat(owned.remove(1)).isTrue();
            assertThat(owned.remove(1)).isFalse();
            assertThat(owned.isReleasing(1)).isFalse();
            assertThat(owned.segments()).containsExactly(0);
            assertThat(owned.size()).isEqualTo(1);
        }
    }

    @Test
    void theViewChangesOnlyWhenPublished() {
        owned.add(2, 5_000);
        owned.add(0, 5_000);
        assertThat(owned.view()).isEmpty();
        assertThat(owned.segments()).containsExactly(0, 2);

        owned.publish();
        owned.remove(2);

        assertThat(owned.view()).containsExactlyInAnyOrder(0, 2);
        owned.publish();
        assertThat(owned.view()).containsExactly(0);
        assertThat(owned.isEmpty()).isFalse();
    }
}

package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.relay.NotRecordedRows.Sighting;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Rows the broker acknowledged that the store did not record SENT: skipped, then parked, until an operator retries. */
class NotRecordedRowsTest {

    private final NotRecordedRows rows = new NotRecordedRows();

    @Nested
    class BeforeParking {

        @Test
        void rowNotAcknowledgedBeforeIsSent() {
            rows.acknowledgedButNotRecorded(List.of("other"));

            assertThat(rows.sighted(entry("row", 0))).isEqualTo(Sighting.SEND);
            assertThat(rows.size()).isEqualTo(1);
        }

        @Test
        void acknowledgedRowIsSkippedThenParkedOnItsThirdSighting() {
            rows.acknowledgedButNotRecorded(List.of("row"));

            assertThat(sightings(NotRecordedRows.SIGHTINGS, 0))
                    .containsExactly(Sighting.SKIP, Sighting.SKIP, Sighting.PARK);
        }

        @Test
        void rowIsNeverSentAgainWhileItsParkingIsNotRecorded() {
            rows.acknowledgedButNotRecorded(List.of("row"));
            sightings(NotRecordedRows.SIGHTINGS, 0);

            assertThat(sightings(3, 0)).containsOnly(Sighting.SKIP);
        }

        @Test
        void reportingItAgainDoesNotRestartTheCount() {
            rows.acknowledgedButNotRecorded(List.of("row"));
            rows.sighted(entry("row", 0));
            rows.sighted(entry("row", 0));

            rows.acknowledgedButNotRecorded(List.of("row"));

            assertThat(rows.sighted(entry("row", 0))).isEqualTo(Sighting.PARK);
        }

        @Test
        void eachRowIsCountedOnItsOwn() {
            rows.acknowledgedButNotRecorded(List.of("row", "twin"));
            sightings(2, 0);

            assertThat(rows.sighted(entry("twin", 0))).isEqualTo(Sighting.SKIP);
            assertThat(rows.sighted(entry("row", 0))).isEqualTo(Sighting.PARK);
            assertThat(rows.size()).isEqualTo(2);
        }
    }

    @Nested
    class AfterParking {

        @Test
        void parkedRowStillReadWithItsAttemptsIsSkipped() {
            rows.acknowledgedButNotRecorded(List.of("row"));
            rows.parked("row");

            assertThat(sightings(5, 1)).containsOnly(Sighting.SKIP);
            assertThat(rows.size()).isEqualTo(1);
        }

        @Test
        void operatorRetryResettingItsAttemptsSendsItAgain() {
            rows.acknowledgedButNotRecorded(List.of("row"));
            sightings(NotRecordedRows.SIGHTINGS, 0);
            rows.parked("row");

            assertThat(rows.sighted(entry("row", 0))).isEqualTo(Sighting.SEND);
            assertThat(rows.size()).isZero();
            assertThat(rows.sighted(entry("row", 0))).as("forgotten").isEqualTo(Sighting.SEND);
        }

        @Test
        void reportingAParkedRowAgainKeepsItParked() {
            rows.acknowledgedButNotRecorded(List.of("row"));
            rows.parked("row");

            rows.acknowledgedButNotRecorded(List.of("row"));

            assertThat(sightings(4, 2)).containsOnly(Sighting.SKIP);
        }

        @Test
        void retriedRowAcknowledgedAndNotRecordedAgainIsCountedAfresh() {
            rows.acknowledgedButNotRecorded(List.of("row"));
            rows.parked("row");
            rows.sighted(entry("row", 0)); // retried by an operator

            rows.acknowledgedButNotRecorded(List.of("row"));

            assertThat(sightings(NotRecordedRows.SIGHTINGS, 0))
                    .containsExactly(Sighting.SKIP, Sighting.SKIP, Sighting.PARK);
        }
    }

    private List<Sighting> sightings(int times, int attempts) {
        return IntStream.range(0, times).mapToObj(i -> rows.sighted(entry("row", attempts))).toList();
    }

    private static OutboxEntry entry(String id, int attempts) {
        return new OutboxEntry(id, 1, Instant.EPOCH, "Evt", "Order", "A", 0, "{}", "{}", OutboxEntry.NO_REVISION, null,
                               OutboxStatus.PENDING, attempts, attempts == 0 ? null : FailureKind.NOT_RECORDED,
                               null, OutboxEntry.NO_SEQUENCE, null, OutboxEntry.NO_SEGMENT);
    }
}

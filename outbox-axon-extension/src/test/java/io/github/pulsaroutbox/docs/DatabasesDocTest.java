package io.github.pulsaroutbox.docs;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/databases.md shows the migration files as they ship: a change to one without the other fails the build. */
class DatabasesDocTest {

    @ParameterizedTest
    @CsvSource({"postgresql,V1__pulsar_outbox_baseline.sql", "postgresql,V2__pulsar_outbox_schema_version.sql",
                "postgresql,V3__pulsar_outbox_relay_updates.sql", "h2,V1__pulsar_outbox_baseline.sql",
                "h2,V2__pulsar_outbox_schema_version.sql", "h2,V3__pulsar_outbox_relay_updates.sql",
                "postgresql,V4__pulsar_outbox_pending_aggregate_key.sql", "h2,V4__pulsar_outbox_pending_aggregate_key.sql",
                "postgresql,V5__pulsar_outbox_broker_partition.sql", "h2,V5__pulsar_outbox_broker_partition.sql",
                "mariadb,V1__pulsar_outbox_baseline.sql", "mariadb,V2__pulsar_outbox_schema_version.sql",
                "mariadb,V3__pulsar_outbox_relay_updates.sql", "mariadb,V4__pulsar_outbox_pending_aggregate_key.sql",
                "mariadb,V5__pulsar_outbox_broker_partition.sql", "postgresql,V6__pulsar_outbox_parked_unknown_outcome.sql",
                "h2,V6__pulsar_outbox_parked_unknown_outcome.sql", "mariadb,V6__pulsar_outbox_parked_unknown_outcome.sql"})
    void theDocShowsEveryMigrationFileVerbatim(String database, String file) throws IOException {
        String resource = "io/github/pulsaroutbox/store/jdbc/" + database + "/migration/" + file;
        String content;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            content = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        String doc = Files.readString(Path.of("..", "docs", "databases.md"));

        assertThat(doc).contains(database + "/migration/" + file).contains("```sql\n" + content + "\n```");
    }
}

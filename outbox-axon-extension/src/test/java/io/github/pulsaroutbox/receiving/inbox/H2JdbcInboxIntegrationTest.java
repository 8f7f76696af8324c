package io.github.pulsaroutbox.receiving.inbox;

import org.h2.jdbcx.JdbcDataSource;

import javax.sql.DataSource;
import java.util.UUID;

class H2JdbcInboxIntegrationTest extends AbstractJdbcInboxIntegrationTest {

    private final JdbcDataSource dataSource = new JdbcDataSource();

    H2JdbcInboxIntegrationTest() {
        dataSource.setURL("jdbc:h2:mem:inbox-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    }

    @Override
    DataSource dataSource() {
        return dataSource;
    }
}

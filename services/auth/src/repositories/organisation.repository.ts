import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OrganisationEntity, RegistrationMode } from '../entities/organisation.entity';

export interface OrganisationUpsert {
  id: string;
  displayName: string;
  registration: RegistrationMode;
  suspended: boolean;
}

@Injectable()
export class OrganisationRepository {
  findById(manager: EntityManager, id: string): Promise<OrganisationEntity | null> {
    return manager.findOne(OrganisationEntity, { where: { id } });
  }

  /** Creates or updates in one statement (safe under concurrent upserts); `created` is false for an update. */
  async upsert(manager: EntityManager, organisation: OrganisationUpsert): Promise<{ created: boolean }> {
    const rows: Array<{ created: boolean }> = await manager.query(
      `INSERT INTO organisations (id, display_name, registration, suspended)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE
         SET display_name = EXCLUDED.display_name,
             registration = EXCLUDED.registration,
             suspended = EXCLUDED.suspended,
             updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [organisation.id, organisation.displayName, organisation.registration, organisation.suspended],
    );
    return { created: rows[0].created };
  }
}
